import sys

from dovecote.local import main

sys.exit(main(sys.argv[1:]))
