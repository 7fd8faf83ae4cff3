"""A LeNet-style convolutional network on the shipped 8x8 digits, or on real MNIST.

The code lives in `chainrule/demos/cnn_demo.py`; this script runs it, as does
`chainrule demo cnn`. Pictures (learned filters, feature maps, training curves) go to
./demo-cnn/ unless --out says otherwise.

    python examples/cnn.py                      # the 8x8 digits, a few seconds
    python examples/cnn.py ~/data/mnist         # MNIST IDX files in that folder
    python examples/cnn.py ~/data/mnist --epochs 3 --limit 20000
"""

import argparse

from chainrule.demos.cnn_demo import main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist_dir", nargs="?", help="folder with MNIST's four IDX files")
    parser.add_argument("--epochs", type=int, help="passes over the training images")
    parser.add_argument("--limit", type=int, help="use only the first LIMIT images of each file")
    parser.add_argument("--out", help="folder for the pictures (default ./demo-cnn)")
    args = parser.parse_args()
    main(out_dir=args.out, data_dir=args.mnist_dir, epochs=args.epochs, limit=args.limit)
