"""Shared Streamlit widgets. The only part of dlplay that imports streamlit."""

from .widgets import (device_badge, errors_shown, image_grid, page_header, show_notes, upload_image,
                      upload_text)
from .training import training_panel

__all__ = ["device_badge", "errors_shown", "image_grid", "page_header", "show_notes", "training_panel",
           "upload_image", "upload_text"]
