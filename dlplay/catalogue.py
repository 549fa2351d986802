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
         "Compare with PCA, try sparse, denoising, redundant, overcomplete, contractive and convolutional variants, tied weights and a perceptual loss, morph and search by code."),
    Demo("Autoencoders", "vae.py", "VAE and latent space", ":material/blur_on:",
         "A variational autoencoder adds noise to the code and a prior over it, so every point of the latent space decodes to something plausible.",
         "Walk the 2-D latent manifold, sample from the prior, compare sampling from an AE and a VAE, tune beta."),
    Demo("Representations", "embeddings.py", "Embedding Explorer", ":material/scatter_plot:",
         "Map high-dimensional data to 2-D or 3-D while keeping neighbours close: PCA, t-SNE, UMAP and the manifold methods.",
         "Project pixels, codes, CNN features, word vectors or your own CSV; watch t-SNE animate; inspect neighbours."),
    Demo("Representations", "words.py", "Words and word2vec", ":material/text_fields:",
         "From bag of words and a linear classifier to word2vec, built from its two matrices, on real text offline.",
         "Tokenise a sentence, read a sentiment model's weights, train word2vec live, ask for neighbours and analogies."),
    Demo("Representations", "documents.py", "Documents: search, LSA and a deep autoencoder", ":material/article:",
         "Search paragraphs by shared words (TF-IDF), then by meaning: LSA, a deep document autoencoder, Doc2Vec; and GloVe's word vectors from co-occurrence counts.",
         "Type a query and see what TF-IDF misses, compare LSA's and the autoencoder's 2-D maps and precision@10, train Doc2Vec and GloVe."),
    Demo("Generative models", "gan.py", "GAN Lab", ":material/swords:",
         "A generator and a discriminator play a game; watch it converge, collapse or stall in 2-D, then on images.",
         "Run the presets (healthy, vanishing gradients, mode collapse, WGAN-GP), step through the loop, generate digits."),
    Demo("Perception and style", "style.py", "Style transfer", ":material/palette:",
         "Style lives in the correlations (Gram matrices) of a CNN's feature maps, content in its deeper activations.",
         "Upload two pictures and watch one take the other's style; see why deep-feature distances beat pixel MSE."),
    Demo("Convolutional networks", "convolution.py", "Convolutional layers", ":material/grid_on:",
         "A CNN is a stack of small filters slid across the picture: each layer's size follows from kernel, stride "
         "and padding, and deeper layers see larger parts of the input.",
         "Build a network and read each layer's shape, parameters and receptive field; train it on the digits; "
         "step one filter across an input; pool, unpool and transpose; see what an ImageNet network's layers respond to."),
    Demo("Beyond one modality and labels", "rewards.py", "Learning from rewards", ":material/sports_esports:",
         "No labels, only rewards: Q-learning fills a table of move values by trial and error until acting greedily on it finds the goal.",
         "Edit a grid world, watch Q-values and arrows fill in, step one update at a time, compare with value iteration, SARSA on the cliff, a DQN."),
    Demo("Beyond one modality and labels", "multimodal.py", "Images and words in one space", ":material/join_inner:",
         "An image encoder and a text encoder trained with a contrastive loss put pictures and the phrases that describe them side by side.",
         "Type a phrase to get images, tag an image with phrases, add and subtract across modalities, read the captions."),
    Demo("Before end-to-end", "pretraining.py", "Before end-to-end", ":material/stacks:",
         "Deep nets were first trained layer by layer: stack shallow autoencoders or RBMs on unlabelled images, then fine-tune with a few labels.",
         "Plot accuracy against labels per class for pre-trained, random and frozen features; watch an RBM's Gibbs chains turn noise into digits; unroll a deep belief net."),
    Demo("Generative models", "sequences.py", "Sequences and autoregressive models", ":material/timeline:",
         "Predict the next symbol from everything before it: n-grams, RNNs, LSTMs, attention, and digits drawn "
         "pixel by pixel with an exact likelihood.",
         "Sample text from n-grams, an RNN and an LSTM; watch gradients vanish; the copy task with a delay slider; "
         "attention's heat map on a reversal; a PixelCNN beside the VAE."),
    Demo("Adversarial learning", "domain.py", "Domain adaptation", ":material/transform:",
         "A classifier learned on clean digits fails on digits in the wild; training its features to fool a domain discriminator makes it work there without target labels.",
         "Measure the quiz (a discriminator tells the domains apart), watch t-SNE islands merge, compare DANN and alternating training with source only, break it with a high lambda."),
    Demo("Teaching together", "board.py", "Class board", ":material/groups:",
         "Every student's finished run on one screen: forty runs show how often training collapses, how much the seed matters and which settings win.",
         "Create a board, give out its class code, and plot any metric of the room's runs grouped by any setting; open a run's settings as a command line."),
]


def available() -> list[Demo]:
    return [d for d in DEMOS if d.exists]
