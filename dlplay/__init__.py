"""dlplay: a playground for an introductory unsupervised deep learning course.

The backend is plain Python and PyTorch; nothing here imports streamlit except `dlplay.ui`.
"""

__version__ = "0.1.0"
