"""`python -m feeds ...`: the same commands as the `feeds` script."""

from feeds.cli import main

if __name__ == "__main__":
    main()
