"""Shared Streamlit widgets. The only part of dlplay that imports streamlit."""

from .latent import latent_sliders
from .shared import Vectors, published_vectors, publish_vectors
from .training import get_trainer, rerun_pending, training_panel
from .widgets import (device_badge, draw_key, errors_shown, image_grid, page_header, show_notes, upload_image,
                      upload_text)

__all__ = ["Vectors", "device_badge", "draw_key", "errors_shown", "get_trainer", "image_grid", "latent_sliders",
           "page_header", "publish_vectors", "published_vectors", "rerun_pending", "show_notes", "training_panel",
           "upload_image", "upload_text"]
