"""The controller side: the only package that talks to the API server.

`kube` implements the engine's `Cluster` seam on the official client; `reconcile` is one pass
over one ModelService (render, apply, prune, status, Events), the function the controller manager
and `msctl reconcile` call.
"""
