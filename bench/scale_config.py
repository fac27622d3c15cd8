#!/usr/bin/env python3
"""Config files for bench/scale.sh: vane, nginx and HAProxy with many host routes, and vane with
many rollouts.

  scale_config.py vane-routes    --routes N --port P --admin A --up1 U1 --up2 U2 --dir D [--name X]
  scale_config.py nginx-routes   --routes N --port P --up1 U1 --up2 U2 --dir D
  scale_config.py haproxy-routes --routes N --port P --up1 U1 --up2 U2 --dir D
  scale_config.py vane-rollouts  --rollouts N --port P --admin A --up1 U1 --up2 U2 --dir D
                                 --desired stable|canary [--interval 10s]

Host i is h<i>.scale.test (i = 0..N-1); the last host is h<N-1>.scale.test. Every route of the
routes configs goes to one upstream of two endpoints (the same two nginx upstreams for all three
proxies), so a request's cost differs only by the route lookup. In the rollouts config, rollout i
has a route (host r<i>.scale.test), two upstreams of its own (r<i>-stable on U1, r<i>-canary on U2),
a canary strategy (setWeight 10, pause {}) and a background builtin success-rate analysis every
--interval from step 0 whose limits it never reaches. It is first started with stable desired (a
first start takes it at once), then reloaded with canary desired: every rollout is then Paused at
weight 10, its analysis running.
"""
import argparse
import os
import sys


def host(i):
    return f"h{i}.scale.test"


def vane_head(a, name):
    return (f'listeners: [{{name: bench, address: "127.0.0.1:{a.port}"}}]\n'
            f'admin: {{address: "127.0.0.1:{a.admin}"}}\n'
            f'state: {{dir: "{a.dir}/{name}-state"}}\n'
            'limits: {idleTimeout: 600s}\n'
            'workers: 1\n')


def vane_routes(a, out):
    out.write(vane_head(a, a.name))
    out.write(f'upstreams:\n  - {{name: app, endpoints: ["127.0.0.1:{a.up1}", "127.0.0.1:{a.up2}"]}}\n')
    out.write("routes:\n")
    # A last host-less route answers the readiness probe (GET / with Host 127.0.0.1:PORT).
    for i in range(a.routes):
        out.write(f"  - {{name: r{i}, match: {{host: {host(i)}}}, upstream: app}}\n")
    out.write("  - {name: any, upstream: app}\n")


def nginx_routes(a, out):
    # One server block per host, as nginx is configured for virtual hosts; server_name is hashed
    # (its hash sized to hold them all). The first server is the default one (the probe).
    out.write(f"""worker_processes 1;
worker_rlimit_nofile 8192;
pid {a.dir}/nginx-routes.pid;
error_log {a.dir}/nginx-routes-error.log warn;
events {{ worker_connections 4096; multi_accept off; }}
http {{
  access_log off;
  client_body_temp_path {a.dir}/tmp-nr/body; proxy_temp_path {a.dir}/tmp-nr/proxy;
  fastcgi_temp_path {a.dir}/tmp-nr/fcgi; uwsgi_temp_path {a.dir}/tmp-nr/uwsgi; scgi_temp_path {a.dir}/tmp-nr/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  server_names_hash_max_size {max(512, 2 * a.routes)};
  server_names_hash_bucket_size 64;
  upstream app {{
    server 127.0.0.1:{a.up1};
    server 127.0.0.1:{a.up2};
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
  }}
  server {{
    listen 127.0.0.1:{a.port} default_server backlog=4096;
    location / {{ proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }}
  }}
""")
    for i in range(a.routes):
        out.write(f"  server {{ listen 127.0.0.1:{a.port}; server_name {host(i)}; "
                  'location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }\n')
    out.write("}\n")


def haproxy_routes(a, out):
    # One backend per host, chosen through a map file (HAProxy's way to route many hosts: a tree
    # lookup, not a list of ACLs). Unknown hosts (the probe) go to the default backend.
    map_path = os.path.join(a.dir, "haproxy-hosts.map")
    with open(map_path, "w") as m:
        for i in range(a.routes):
            m.write(f"{host(i)} b{i}\n")
    out.write(f"""global
  nbthread 1
  maxconn 4096
  pidfile {a.dir}/haproxy-routes.pid
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
  http-reuse always
frontend bench
  bind 127.0.0.1:{a.port}
  use_backend %[req.hdr(host),lower,map({map_path},app)]
  default_backend app
backend app
  balance roundrobin
  server s1 127.0.0.1:{a.up1}
  server s2 127.0.0.1:{a.up2}
""")
    for i in range(a.routes):
        out.write(f"backend b{i}\n  balance roundrobin\n  server s1 127.0.0.1:{a.up1}\n  server s2 127.0.0.1:{a.up2}\n")


def vane_rollouts(a, out):
    out.write(vane_head(a, "vane-rollouts"))
    out.write("upstreams:\n")
    for i in range(a.rollouts):
        out.write(f'  - {{name: r{i}-stable, endpoints: ["127.0.0.1:{a.up1}"]}}\n')
        out.write(f'  - {{name: r{i}-canary, endpoints: ["127.0.0.1:{a.up2}"]}}\n')
    out.write("routes:\n")
    for i in range(a.rollouts):
        out.write(f"  - {{name: r{i}, match: {{host: r{i}.scale.test}}, rollout: r{i}}}\n")
    out.write("  - {name: any, upstream: r0-stable}\n")
    out.write(f"""analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        interval: {a.interval}
        successCondition: result >= 0.5
        failureLimit: 1000000000
        inconclusiveLimit: 1000000000
        provider:
          builtin: {{metric: success-rate, window: 30s, minRequests: 1}}
rollouts:
""")
    for i in range(a.rollouts):
        out.write(f"""  - name: r{i}
    upstream: r{i}-{a.desired}
    strategy:
      canary:
        steps: [{{setWeight: 10}}, {{pause: {{}}}}]
        analysis: {{templates: [{{templateName: success-rate}}]}}
""")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["vane-routes", "nginx-routes", "haproxy-routes", "vane-rollouts"])
    p.add_argument("--routes", type=int, default=1)
    p.add_argument("--rollouts", type=int, default=1)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--admin", type=int, default=0)
    p.add_argument("--up1", type=int, required=True)
    p.add_argument("--up2", type=int, required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--name", default="vane-routes")
    p.add_argument("--desired", choices=["stable", "canary"], default="stable")
    p.add_argument("--interval", default="10s")
    a = p.parse_args()
    {"vane-routes": vane_routes, "nginx-routes": nginx_routes, "haproxy-routes": haproxy_routes,
     "vane-rollouts": vane_rollouts}[a.kind](a, sys.stdout)


if __name__ == "__main__":
    main()
