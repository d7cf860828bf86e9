# The two commands of the README. Everything else is a helper they call.
.PHONY: run test bootstrap images lint clean

PY := .venv/bin/python

run:  ## Bring the whole platform up on http://127.0.0.1:8000
	@scripts/run.sh

test:  ## Run every test layer (unit, integration, browser) against PostgreSQL, Redis and Docker
	@scripts/test.sh

bootstrap:  ## Virtualenv, Python and front-end dependencies only
	@scripts/bootstrap.sh

images:  ## Build the lab images that are missing or out of date
	@scripts/services.sh docker image-tools && $(PY) manage.py build_lab_images

clean:
	rm -rf .venv node_modules static/vendor var/staticfiles
