"""The container runtime: how a pod's containers become real processes.

A kubelet asks the runtime for a sandbox (the pod's address and directories) and then creates,
starts, stops and removes containers in it. Containers are started from images, which live in a
local image store (``runtime.images``); built-in images need no download.
"""
