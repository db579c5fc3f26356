"""Images: named, content-addressed file trees plus a config (entrypoint, cmd, env, workdir).

``references`` parses image names the way Docker does and resolves them to the built-in images
that ship with minikube_py, so ``nginx:1.14.2`` runs without any download.
"""
