"""The pages the nginx image ships in ``/usr/share/nginx/html`` and the version it reports.

They are data, not program: the catalogue writes them into the image root, where the built-in
``nginx`` serves them like any other file (and a ConfigMap mounted over the directory replaces
them, as in the tutorials). The welcome page is the familiar 615-byte one.
"""

from __future__ import annotations

VERSION = "1.27.3"

_STYLE = """<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
"""

INDEX = f"""<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
{_STYLE}</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

ERROR_50X = f"""<!DOCTYPE html>
<html>
<head>
<title>Error</title>
{_STYLE}</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""
