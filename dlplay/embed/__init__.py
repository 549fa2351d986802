"""The Embedding Explorer's backend: map high-dimensional vectors to 2-D or 3-D points that keep neighbours close.

Every method comes from a library, never written here: PCA, MDS, Isomap and LLE from scikit-learn, t-SNE from
openTSNE, UMAP from umap-learn. What this package adds is the glue a lecture needs:

- `sources`: the vectors of digits' pixels, autoencoder / VAE codes, CNN features, word vectors;
- `tables`: reading uploaded CSV / TSV / .npy tables from bytes, refusing what cannot be used with InputError;
- `methods`: one scikit-learn-style `Embedder` for all six methods (parameters checked in `fit`), with a progress
  callback and a t-SNE that can be stopped and resumed;
- `task`: a layout as a Task (the topic contract's `EmbedConfig` and `make_task`), so it runs through the runner
  in a worker process, animated, with Stop, like any training run;
- `quality`: how much of the original neighbourhood structure a layout keeps;
- `figures`: plotly scatter with a thumbnail layer, a PNG render, the coordinates as CSV; `cli`: `python -m dlplay embed`.

The objective t-SNE minimises (van der Maaten and Hinton, 2008, eq. 2 and 4):

    C = KL(P || Q) = sum_ij p_ij log(p_ij / q_ij),    q_ij = (1 + |y_i - y_j|^2)^-1 / sum_kl (1 + |y_k - y_l|^2)^-1

where p_ij are neighbour probabilities in the original space (Gaussians whose widths are set by the perplexity).
"""

from .cli import cli_args, cli_run
from .figures import colour_groups, coords_csv, layout_figure, layout_png, thumbnail_sample
from .methods import (MAX_CELLS, MAX_NEIGHBOUR_EDGES, MAX_POINTS, METHODS, check_budget, TSNE_EXAGGERATION_ITER, Embedder, Progress, embed, knn_graph, n_jobs,
                      sample_indices, umap_warm, warm_up_in_background, warm_up_umap)
from .quality import QUALITY_K, QUALITY_MAX_POINTS, neighbours, quality
from .sources import IMAGE_SETS, REPRESENTATIONS, Source, encode_images, load_source, missing_piece, source_names, \
    three_blobs
from .tables import MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_BYTES, MIN_ROWS, Table, read_table
from .task import (MAX_TSNE_3D_POINTS, EmbedConfig, EmbedTask, LessonConfig, LessonTask, Vectors, make_lesson_task,
                   make_task)

TITLE = "Embeddings: PCA, t-SNE, UMAP and the manifold methods"
SHIPPED: dict = {}   # layouts are computed live (the first one in seconds); nothing to ship
EXAMPLE = EmbedConfig(data=Vectors.of(three_blobs(20, 4).x), method="tsne", n_iter=50)   # small, for tests

__all__ = ["MAX_CELLS", "MAX_NEIGHBOUR_EDGES", "check_budget", "EmbedConfig", "EmbedTask", "Embedder", "IMAGE_SETS", "LessonConfig", "LessonTask", "MAX_COLUMNS",
           "MAX_POINTS", "MAX_ROWS", "MAX_TSNE_3D_POINTS", "MAX_UPLOAD_BYTES", "METHODS", "MIN_ROWS", "Progress",
           "EXAMPLE", "QUALITY_K", "QUALITY_MAX_POINTS", "REPRESENTATIONS", "SHIPPED", "Source", "TITLE",
           "TSNE_EXAGGERATION_ITER", "Table", "Vectors", "cli_args", "cli_run", "colour_groups", "coords_csv",
           "embed", "encode_images", "knn_graph", "layout_figure", "layout_png", "load_source", "make_lesson_task",
           "make_task", "missing_piece", "n_jobs", "neighbours", "quality", "read_table", "sample_indices",
           "source_names", "thumbnail_sample", "three_blobs", "umap_warm", "warm_up_in_background",
           "warm_up_umap"]
