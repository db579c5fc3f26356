"""Service networking: what makes a Service's address answer.

- ``proxy.py`` — ``ServiceProxy``, kube-proxy for loopback: a real listener on every
  ClusterIP, node port and load-balancer address, forwarding each connection (or UDP flow) to
  an endpoint from the Service's EndpointSlices (``proxy_routes``, ``proxy_table``,
  ``balancer``, ``proxy_tcp``, ``proxy_udp``).
- ``loadbalancer.py`` — ``LoadBalancerAllocator``: external addresses for type LoadBalancer
  Services, as ``minikube tunnel`` gives them.
- ``dns*.py`` — the cluster DNS for ``cluster.local``; ``ingress*.py`` — the Ingress
  controller.

All of them are API clients only, like their upstream counterparts.
"""
