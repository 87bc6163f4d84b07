"""The site binder on paper: the book as one PDF, the eligibility checklist and pocket cards.

Everything is generated from study.yaml (the forms) or from the built book (the PDF), and printed
by Debian's headless Chromium, so the paper can never disagree with the book. ``python -m binder``
(``make binder``) writes them to ``_build/binder/`` and publishes them with the book.
"""
