"""One runner per framework: ``run(request) -> answer`` inside the worker."""
