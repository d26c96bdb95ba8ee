# SPDX-License-Identifier: Apache-2.0
import sys

from .entrypoint import main

sys.exit(main())
