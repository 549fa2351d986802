"""The demos, grouped by lecture topic: one entry per page. app.py builds the navigation and the home page's
cards from this list; `python -m dlplay list` prints it. A page appears once its file exists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Demo:
    group: str
    page: str        # file under pages/
    title: str
    icon: str        # a Material Symbol (":material/name:"): its font ships with Streamlit, so it shows offline
    idea: str        # one sentence on the idea
    try_it: str      # what you can do there

    @property
    def path(self) -> Path:
        return ROOT / "pages" / self.page

    @property
    def url_path(self) -> str:
        return Path(self.page).stem

    @property
    def exists(self) -> bool:
        return self.path.exists()


DEMOS = [
    Demo("Start", "datasets.py", "Datasets and a first model", ":material/dataset:",
         "Every demo trains on the same small datasets; look at them and train a tiny classifier to meet the training panel.",
         "Browse digits, generated shapes with known factors and 2-D toy sets; train a classifier live."),
    Demo("Autoencoders", "autoencoders.py", "Autoencoder Lab", ":material/compress:",
         "Squeeze images through a narrow code and rebuild them: linear autoencoders find PCA's subspace, deep ones beat it.",
         "Compare with PCA, try sparse, denoising, overcomplete, contractive and convolutional variants, morph and search by code."),
    Demo("Autoencoders", "vae.py", "VAE and latent space", ":material/blur_on:",
         "A variational autoencoder adds noise to the code and a prior over it, so every point of the latent space decodes to something plausible.",
         "Walk the 2-D latent manifold, sample from the prior, compare sampling from an AE and a VAE, tune beta."),
    Demo("Representations", "embeddings.py", "Embedding Explorer", ":material/scatter_plot:",
         "Map high-dimensional data to 2-D or 3-D while keeping neighbours close: PCA, t-SNE, UMAP and the manifold methods.",
         "Project pixels, codes, CNN features, word vectors or your own CSV; watch t-SNE animate; inspect neighbours."),
    Demo("Representations", "words.py", "Words and word2vec", ":material/text_fields:",
         "From bag of words and a linear classifier to word2vec, built from its two matrices, on real text offline.",
         "Tokenise a sentence, read a sentiment model's weights, train word2vec live, ask for neighbours and analogies."),
    Demo("Generative models", "gan.py", "GAN Lab", ":material/swords:",
         "A generator and a discriminator play a game; watch it converge, collapse or stall in 2-D, then on images.",
         "Run the presets (healthy, vanishing gradients, mode collapse, WGAN-GP), step through the loop, generate digits."),
    Demo("Perception and style", "style.py", "Style transfer", ":material/palette:",
         "Style lives in the correlations (Gram matrices) of a CNN's feature maps, content in its deeper activations.",
         "Upload two pictures and watch one take the other's style; see why deep-feature distances beat pixel MSE."),
    Demo("Adversarial learning", "domain.py", "Domain adaptation", ":material/transform:",
         "A classifier learned on clean digits fails on digits in the wild; training its features to fool a domain discriminator makes it work there without target labels.",
         "Measure the quiz (a discriminator tells the domains apart), watch t-SNE islands merge, compare DANN and alternating training with source only, break it with a high lambda."),
]


def available() -> list[Demo]:
    return [d for d in DEMOS if d.exists]
