"""Command line: run the simulator as a standalone server (python -m halosim --port 8765)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .config import CHECKBOX_FORMS, FIELDINFO_FORMS, SITE_ADDRESS_FORMS, SimConfig
from .simulator import Simulator
from .tenant import Tenant
from .webhooks import WebhookAuth


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser; credentials come from the environment, never from flags."""
    p = argparse.ArgumentParser(
        prog="python -m halosim",
        description="HaloPSA simulator. Credentials: HALOSIM_CLIENT_ID and HALOSIM_CLIENT_SECRET (required); "
        "its outbound webhooks authenticate with HALOSIM_WEBHOOK_TOKEN, or HALOSIM_WEBHOOK_USERNAME and "
        "HALOSIM_WEBHOOK_PASSWORD.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed on start)")
    p.add_argument("--state", type=Path, help="JSON state file: loaded when it exists, else generated and saved")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--clients", type=int, default=40)
    p.add_argument("--sites-total", type=int, help="exact number of sites (default: 1-3 per client)")
    p.add_argument("--tenant-name", default="demo", help='hosted tenant name; "" for a self-hosted instance')
    g = p.add_argument_group("behaviour switches (see SimConfig)")
    g.add_argument("--checkbox-form", choices=CHECKBOX_FORMS, default="bool")
    g.add_argument("--site-address-form", choices=SITE_ADDRESS_FORMS, default="flat")
    g.add_argument("--fieldinfo-form", choices=FIELDINFO_FORMS, default="array")
    g.add_argument("--ignore-include-custom-fields", action="store_true", help="list rows never carry customfields")
    g.add_argument("--rate-limit", type=int, help="requests per rolling window (default unlimited)")
    g.add_argument("--rate-window", type=float, default=300.0, help="rate window in seconds")
    g.add_argument("--send-retry-after", action="store_true")
    g.add_argument("--token-lifetime", type=int, default=3600)
    g.add_argument("--expired-token-status", type=int, choices=(400, 401), default=401)
    g.add_argument("--latency", type=float, default=0.0, help="seconds added to each API request")
    g.add_argument("--default-page-size", type=int, default=50)
    g.add_argument("--max-page-size", type=int, default=100)
    g.add_argument("--truncate-listings", type=int, default=0)
    g.add_argument("--webhook-url", default="", help="POST a webhook here when a client or site changes")
    g.add_argument("--webhook-batch-seconds", type=float, default=0.0, help="> 0: send events as arrays")
    g.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any other SimConfig switch, e.g. --set list_rows_carry_phone=true (repeatable)",
    )
    return p


def config_from_args(args: argparse.Namespace) -> SimConfig:
    """Build the SimConfig the flags describe."""
    config = SimConfig(
        checkbox_form=args.checkbox_form,
        honour_include_custom_fields=not args.ignore_include_custom_fields,
        site_address_form=args.site_address_form,
        fieldinfo_form=args.fieldinfo_form,
        rate_limit=args.rate_limit,
        rate_window_seconds=args.rate_window,
        send_retry_after=args.send_retry_after,
        token_lifetime=args.token_lifetime,
        expired_token_status=args.expired_token_status,
        latency_seconds=args.latency,
        default_page_size=args.default_page_size,
        max_page_size=args.max_page_size,
        truncate_listings=args.truncate_listings,
        webhook_url=args.webhook_url,
        webhook_batch_seconds=args.webhook_batch_seconds,
    )
    extra = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set needs KEY=VALUE, got {item!r}")
        extra[key.strip()] = value.strip()
    config.update(extra)  # validates, including the flags above
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT or SIGTERM; return the exit status."""
    args = build_parser().parse_args(argv)
    client_id, secret = os.environ.get("HALOSIM_CLIENT_ID"), os.environ.get("HALOSIM_CLIENT_SECRET")
    if not client_id or not secret:
        print("halosim: set HALOSIM_CLIENT_ID and HALOSIM_CLIENT_SECRET", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"halosim: {exc}", file=sys.stderr)
        return 2
    if args.state and args.state.exists():
        tenant = Tenant.load(args.state)  # edits made through the page survive restarts
    else:
        tenant = Tenant.generate(clients=args.clients, seed=args.seed, sites_total=args.sites_total)
        if args.state:
            tenant.save(args.state)
    sim = Simulator(
        tenant=tenant,
        client_id=client_id,
        client_secret=secret,
        tenant_name=args.tenant_name or None,
        config=config,
        state_path=args.state,
        webhook_auth=WebhookAuth(
            token=os.environ.get("HALOSIM_WEBHOOK_TOKEN", ""),
            username=os.environ.get("HALOSIM_WEBHOOK_USERNAME", ""),
            password=os.environ.get("HALOSIM_WEBHOOK_PASSWORD", ""),
        ),
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sim.start(host=args.host, port=args.port)
    except OSError as exc:
        print(f"halosim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    name = args.tenant_name or "(self-hosted)"
    print(f"HaloPSA simulator on {sim.base_url} (tenant {name}, {len(tenant.clients)} clients)", flush=True)
    if config.webhook_url:
        print(f"Sending webhooks to {config.webhook_url}", flush=True)
    while not stop.wait(0.5):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
