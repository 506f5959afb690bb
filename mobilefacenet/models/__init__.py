"""MobileFaceNet networks (mobilefacenet.py: the paper's and the TF repos' graphs); original.py
reads the MobileFaceNet_TF release."""
