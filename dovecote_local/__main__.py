import sys

from dovecote_local import main

sys.exit(main(sys.argv[1:]))
