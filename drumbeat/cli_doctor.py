"""``drumbeat doctor``: check a deployment, one line per check, and say how to fix what is wrong.

Nothing is changed and no mail is sent: the database is only read, the relay
gets EHLO (STARTTLS, AUTH) and QUIT, the IMAP folder is opened read-only, and
the intake port is only tried. Exit status 0 when every essential check
passes, 1 otherwise; warnings (``!``) never fail the run.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import ValidationError

from config.settings import Settings, get_settings
from drumbeat.secret_key import HOW_TO_SET, key_problem

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
SYMBOLS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "–"}
COLOURS = {OK: "green", WARN: "yellow", FAIL: "red", SKIP: None}
TIMEOUT = 5.0
DEFAULT_DOMAIN = "drumbeat.localhost"
RESERVED_SUFFIXES = (".localhost", ".local", ".test", ".example", ".invalid", ".internal")


@dataclass(frozen=True)
class Check:
    """One line of the report. ``essential`` checks decide the exit status."""

    name: str
    status: str
    detail: str
    fix: str = ""
    essential: bool = True

    @property
    def failed(self) -> bool:
        return self.essential and self.status == FAIL

    def line(self) -> str:
        text = f"{SYMBOLS[self.status]} {self.name}: {self.detail}"
        if self.fix and self.status in (FAIL, WARN):
            text += f" Fix: {self.fix}"
        return text


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error
    return " ".join(str(orig or exc).split()) or type(exc).__name__


def _safe_url(url: str) -> str:
    """The URL with its password hidden, for printing."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))


# --- settings -----------------------------------------------------------------------------

def check_settings() -> tuple[Check, Settings | None]:
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(
            "DRUMBEAT_" + "_".join(str(p) for p in problem["loc"]).upper() + f": {problem['msg']}"
            for problem in exc.errors())
        return Check("settings", FAIL, f"cannot be read: {problems}.",
                     "correct these variables in the environment or in .env."), None
    source = " and .env" if Path(".env").is_file() else ""
    return Check("settings", OK, f"loaded from the DRUMBEAT_* variables{source}."), settings


# --- database -----------------------------------------------------------------------------

def check_database(settings: Settings) -> Check:
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from drumbeat.health import quick_engine
    from models.migrate import alembic_config, current_revision, head_revision

    url = settings.database_url
    shown = _safe_url(url)
    try:
        parsed = make_url(url)
    except Exception as exc:
        return Check("database", FAIL, f"DRUMBEAT_DATABASE_URL is not a database URL: {exc}.",
                     "write it as sqlite:///var/drumbeat.sqlite or "
                     "postgresql+psycopg://user:password@host/dbname.")
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        return Check("database", FAIL, f"{shown}: the file does not exist yet.",
                     "run `drumbeat db upgrade` to create it.")
    try:
        engine = quick_engine(url)
    except Exception as exc:  # e.g. a driver that is not installed
        return Check("database", FAIL, f"cannot use {shown}: {_one_line(exc)}.",
                     "correct DRUMBEAT_DATABASE_URL.")
    try:
        current = current_revision(engine)
    except Exception as exc:
        return Check("database", FAIL, f"cannot reach {shown}: {_one_line(exc)}.",
                     "start the database server, or correct DRUMBEAT_DATABASE_URL "
                     "(host, port, user, password, database name).")
    finally:
        engine.dispose()
    head = head_revision()
    if current == head:
        return Check("database", OK, f"{shown} is reachable and migrated to the newest "
                     f"revision ({head}).")
    if current is None:
        return Check("database", FAIL, f"{shown} is reachable but has no Drumbeat tables.",
                     "run `drumbeat db upgrade`.")
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except Exception:
        return Check("database", FAIL, f"{shown} is at revision {current}, which this version "
                     f"of Drumbeat does not know: a newer Drumbeat migrated it.",
                     "run the Drumbeat version that migrated it (or newer).")
    return Check("database", FAIL, f"{shown} is at revision {current}; this Drumbeat needs "
                 f"{head}.", "run `drumbeat db upgrade`.")


# --- broker -------------------------------------------------------------------------------

def check_broker(settings: Settings) -> Check:
    from drumbeat.health import check_broker as ping

    if not settings.redis_url:
        return Check("broker", OK, "in-process broker (DRUMBEAT_REDIS_URL is not set): run "
                     "`drumbeat serve`, which runs the workers in the same process.")
    shown = _safe_url(settings.redis_url)
    answer = ping(settings.redis_url)
    if answer == "ok":
        return Check("broker", OK, f"Redis at {shown} answers PING.")
    return Check("broker", FAIL, f"Redis at {shown} does not answer: "
                 f"{answer.removeprefix('error: ')}.",
                 "start Redis, or correct DRUMBEAT_REDIS_URL (unset it to run everything "
                 "in one process with `drumbeat serve`).")


# --- outgoing mail ------------------------------------------------------------------------

def check_outgoing(settings: Settings) -> Check:
    if not settings.smtp_host:
        return _check_maildir(settings.maildir)
    return _check_relay(settings)


def _check_maildir(path: Path) -> Check:
    name = "outgoing mail"
    where = f"no relay (DRUMBEAT_SMTP_HOST is not set): mail is written to the Maildir {path}"
    if path.exists() and not path.is_dir():
        return Check(name, FAIL, f"{where}, but that is a file, not a folder.",
                     "set DRUMBEAT_MAILDIR to a folder, or DRUMBEAT_SMTP_HOST to a relay.")
    probe_in = path / "tmp" if (path / "tmp").is_dir() else path
    while not probe_in.exists():
        probe_in = probe_in.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_in, prefix=".drumbeat-doctor-"):
            pass
    except OSError as exc:
        return Check(name, FAIL, f"{where}, but {probe_in} is not writable ({exc.strerror}).",
                     f"let the user running Drumbeat write to {probe_in}, or set "
                     "DRUMBEAT_MAILDIR to a writable folder.")
    created = "" if path.exists() else " (created at the first email)"
    return Check(name, OK, f"{where}{created}, writable.")


def _check_relay(settings: Settings) -> Check:
    name = "outgoing mail"
    host, port = settings.smtp_host or "", settings.smtp_port
    where = f"relay {host}:{port}"
    if port == 465:
        return Check(name, FAIL, f"{where}: port 465 expects TLS from the first byte, which "
                     "Drumbeat does not speak.", "use the relay's submission port 587 with "
                     "DRUMBEAT_SMTP_STARTTLS=true.")
    steps = ["connected", "EHLO"]
    warning = ""
    try:
        with smtplib.SMTP(host, port, timeout=TIMEOUT) as smtp:  # leaving sends QUIT
            code, answer = smtp.ehlo()
            if code != 250:
                return Check(name, FAIL, f"{where} answered EHLO with {code} "
                             f"{answer.decode(errors='replace')}.",
                             "check that DRUMBEAT_SMTP_HOST and DRUMBEAT_SMTP_PORT name an "
                             "SMTP relay.")
            if settings.smtp_starttls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                    steps.append("STARTTLS")
                else:
                    warning = ("it offers no STARTTLS, so mail would cross the network "
                               "unencrypted")
            if settings.smtp_username:
                if not smtp.has_extn("auth"):
                    return Check(name, FAIL, f"{where} offers no AUTH, but "
                                 "DRUMBEAT_SMTP_USERNAME is set.",
                                 "unset DRUMBEAT_SMTP_USERNAME if the relay needs no login; "
                                 "many relays offer AUTH only after STARTTLS "
                                 "(DRUMBEAT_SMTP_STARTTLS=true).")
                password = (settings.smtp_password.get_secret_value()
                            if settings.smtp_password else "")
                mechanism = _login(smtp, settings.smtp_username, password)
                steps.append(f"AUTH {mechanism} as {settings.smtp_username}")
            elif smtp.has_extn("auth") and not warning:
                warning = ("it offers AUTH but DRUMBEAT_SMTP_USERNAME is not set; if it "
                           "requires a login, every email will wait in the outbox")
    except smtplib.SMTPAuthenticationError as exc:
        return Check(name, FAIL, f"{where} refused the login of {settings.smtp_username}: "
                     f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}.",
                     "check DRUMBEAT_SMTP_USERNAME and DRUMBEAT_SMTP_PASSWORD.")
    except ssl.SSLError as exc:
        return Check(name, FAIL, f"{where}: STARTTLS failed: {_one_line(exc)}.",
                     "the relay's certificate must be valid for its name and trusted by this "
                     "machine; set DRUMBEAT_SMTP_HOST to the name on the certificate.")
    except (OSError, smtplib.SMTPException) as exc:
        return Check(name, FAIL, f"cannot talk to {where}: {_one_line(exc)}.",
                     "check DRUMBEAT_SMTP_HOST and DRUMBEAT_SMTP_PORT and that this machine "
                     "may reach it; unset DRUMBEAT_SMTP_HOST to write mail to the Maildir.")
    done = ", ".join(steps) + ", QUIT"
    if warning:
        fix = ("set DRUMBEAT_SMTP_USERNAME and DRUMBEAT_SMTP_PASSWORD, or ignore this if the "
               "relay accepts this machine without a login." if "AUTH" in warning else
               "use a relay that offers STARTTLS (or set DRUMBEAT_SMTP_STARTTLS=false if the "
               "network to it is trusted).")
        return Check(name, WARN, f"{where}: {done}; but {warning}.", fix)
    return Check(name, OK, f"{where}: {done} (no mail sent).")


def _login(smtp: smtplib.SMTP, username: str, password: str) -> str:
    """AUTH with the mechanism smtplib's ``login`` tries first, and only that one: a
    refusal is then reported as such rather than lost in the fallbacks."""
    smtp.user, smtp.password = username, password
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("CRAM-MD5", "PLAIN", "LOGIN"):
        if mechanism in offered:
            method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
            smtp.auth(mechanism, method)
            return mechanism
    raise smtplib.SMTPException(f"none of the relay's AUTH mechanisms ({' '.join(offered)}) "
                                "is supported")


# --- IMAP ---------------------------------------------------------------------------------

def check_imap(settings: Settings) -> Check:
    name = "IMAP"
    if not settings.imap_host:
        return Check(name, SKIP, "DRUMBEAT_IMAP_HOST is not set: replies come in over SMTP "
                     "(`drumbeat smtpd` or `drumbeat serve`).", essential=False)
    from imap_tools import MailBox, MailBoxUnencrypted
    from imap_tools.errors import MailboxFolderSelectError, MailboxLoginError

    where = f"{settings.imap_host}:{settings.imap_port}"
    if not settings.imap_username:
        return Check(name, FAIL, f"{where}: DRUMBEAT_IMAP_USERNAME is not set.",
                     "set DRUMBEAT_IMAP_USERNAME and DRUMBEAT_IMAP_PASSWORD.")
    box_class = MailBox if settings.imap_ssl else MailBoxUnencrypted
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    folder = settings.imap_folder
    try:
        box = box_class(settings.imap_host, settings.imap_port, timeout=TIMEOUT)
    except ssl.SSLError as exc:
        return Check(name, FAIL, f"{where}: TLS failed: {_one_line(exc)}.",
                     "for a plain IMAP port (143) set DRUMBEAT_IMAP_SSL=false; for TLS use "
                     "port 993 and the name on the server's certificate.")
    except OSError as exc:
        return Check(name, FAIL, f"cannot reach {where}: {_one_line(exc)}.",
                     "check DRUMBEAT_IMAP_HOST, DRUMBEAT_IMAP_PORT and DRUMBEAT_IMAP_SSL.")
    try:
        box.login(settings.imap_username, password, initial_folder=None)
        _typ, data = box.folder.set(folder, readonly=True)
        count = data[0].decode() if data and isinstance(data[0], bytes) else "?"
        target = settings.imap_after.removeprefix("move:")
        if settings.imap_after.startswith("move:") and not box.folder.exists(target):
            return Check(name, FAIL, f"{where}: DRUMBEAT_IMAP_AFTER moves stored mail to "
                         f"{target!r}, and there is no such folder.",
                         f"create the folder {target!r}, or set DRUMBEAT_IMAP_AFTER=seen.")
    except MailboxLoginError as exc:
        return Check(name, FAIL, f"{where} refused the login of {settings.imap_username}: "
                     f"{_one_line(exc)}.",
                     "check DRUMBEAT_IMAP_USERNAME and DRUMBEAT_IMAP_PASSWORD (some providers "
                     "need an app password).")
    except MailboxFolderSelectError:
        return Check(name, FAIL, f"{where}: there is no folder {folder!r}.",
                     "set DRUMBEAT_IMAP_FOLDER to an existing folder (INBOX by default).")
    except Exception as exc:
        return Check(name, FAIL, f"{where}: {_one_line(exc)}.",
                     "check the DRUMBEAT_IMAP_* settings.")
    finally:
        try:
            box.logout()
        except Exception:  # never logged in, or the connection is gone
            box.client.shutdown()
    return Check(name, OK, f"{where}: logged in as {settings.imap_username}, folder "
                 f"{folder} opened read-only ({count} messages).")


# --- domain and key -----------------------------------------------------------------------

def check_domain(settings: Settings) -> Check:
    domain = settings.mail_domain
    if domain != DEFAULT_DOMAIN:
        return Check("mail domain", OK, f"@{domain}; mail is sent from "
                     f"{settings.sender_address}.", essential=False)
    if settings.smtp_host:
        return Check("mail domain", WARN, f"still the default {DEFAULT_DOMAIN}, while mail "
                     "goes out through a relay: nobody outside this machine can reply to "
                     f"@{DEFAULT_DOMAIN}.", "set DRUMBEAT_MAIL_DOMAIN to the domain whose MX "
                     "points at the intake (or whose mailbox the IMAP poller reads).",
                     essential=False)
    return Check("mail domain", OK, f"the default {DEFAULT_DOMAIN}: fine while mail stays in "
                 "the local Maildir; set DRUMBEAT_MAIL_DOMAIN before going live.",
                 essential=False)


def check_mx(settings: Settings) -> Check:
    domain = settings.mail_domain.lower().rstrip(".")
    name = "MX"
    if domain == "localhost" or domain.endswith(RESERVED_SUFFIXES):
        return Check(name, SKIP, f"{domain} is a reserved name: no MX record to look up.",
                     essential=False)
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        return Check(name, SKIP, "not checked: dnspython is not installed.", essential=False)
    try:
        answer = dns.resolver.resolve(domain, "MX", lifetime=3)
    except dns.resolver.NXDOMAIN:
        return Check(name, WARN, f"this machine's DNS resolver says {domain} does not exist, "
                     "so mail to it cannot arrive over SMTP.", "register the domain and add "
                     "an MX record pointing at the host running `drumbeat smtpd`, or check "
                     "this machine's resolver.", essential=False)
    except dns.resolver.NoAnswer:
        return Check(name, WARN, f"{domain} has no MX record: mail to @{domain} does not "
                     "reach Drumbeat over SMTP.", "add an MX record pointing at the host "
                     "running `drumbeat smtpd` (or a relay that forwards to it), or read a "
                     "mailbox with DRUMBEAT_IMAP_*.", essential=False)
    except dns.exception.DNSException as exc:
        return Check(name, WARN, f"could not look up the MX of {domain}: {_one_line(exc)}.",
                     "check this machine's DNS resolver (the check is informative only).",
                     essential=False)
    hosts = sorted((record.preference, str(record.exchange).rstrip("."))
                   for record in answer)
    listed = ", ".join(f"{host} ({preference})" for preference, host in hosts)
    return Check(name, OK, f"{domain} receives mail at {listed}.", essential=False)


def check_secret(settings: Settings) -> Check:
    problem = key_problem(settings)
    if problem is None:
        return Check("secret key", OK, "DRUMBEAT_SECRET_KEY is set (long enough, not the "
                     "old default).")
    found, fix = problem.split(HOW_TO_SET, 1)
    return Check("secret key", FAIL, found.strip(), HOW_TO_SET[0].lower() + HOW_TO_SET[1:] + fix)


# --- who can change data -----------------------------------------------------------------

def check_sender_policy(settings: Settings, resolv_conf: Path | None = None) -> Check:
    """What may vouch for a sender; a warning when in practice only reply tokens can."""
    from mail.read.authentication import describe_policy, vouches_only_for_tokens
    from workers.runtime import sender_policy_for

    policy = sender_policy_for(settings)
    in_force = "; ".join(describe_policy(policy, resolv_conf))
    if vouches_only_for_tokens(policy, resolv_conf):
        return Check("sender policy", WARN, "only replies to an agenda's own address (its "
                     f"reply token) can change anything ({in_force}).",
                     "give this machine a DNS resolver (for DKIM), or set "
                     "DRUMBEAT_TRUSTED_AUTHSERV_ID to your receiving MTA's authserv-id, or "
                     "DRUMBEAT_TRUSTED_RELAYS to your mail servers' networks.", essential=False)
    return Check("sender policy", OK, f"a message changes data only when one of these vouches "
                 f"for its sender: {in_force}.", essential=False)


# --- the intake port ----------------------------------------------------------------------

def check_intake_port(settings: Settings) -> Check:
    name = "SMTP intake"
    host, port = settings.smtpd_host, settings.smtpd_port
    where = f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        return Check(name, FAIL, f"cannot listen on {where}: {_one_line(exc)}.",
                     "set DRUMBEAT_SMTPD_HOST to an address of this machine.")
    family, _type, _proto, _name, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except PermissionError:
            return Check(name, FAIL, f"port {port} needs privileges this user does not have.",
                         "listen on a port above 1023 (DRUMBEAT_SMTPD_PORT, e.g. 2525) and "
                         "forward port 25 to it, or grant CAP_NET_BIND_SERVICE.")
        except OSError as exc:
            if exc.errno not in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                return Check(name, FAIL, f"cannot listen on {where}: {exc.strerror}.",
                             "set DRUMBEAT_SMTPD_HOST to an address of this machine.")
        else:
            return Check(name, OK, f"{where} is free for `drumbeat smtpd` / `drumbeat serve`.")
    banner = _smtp_banner(family, address)
    if banner is None:
        return Check(name, FAIL, f"{where} is taken by a program that does not answer SMTP.",
                     "stop it, or set DRUMBEAT_SMTPD_PORT to a free port.")
    if settings.mail_domain.lower() in banner.lower():
        return Check(name, OK, f"{where} is already serving: {banner}")
    return Check(name, FAIL, f"{where} is taken by another SMTP server: {banner}",
                 "stop it, or set DRUMBEAT_SMTPD_PORT to a free port (if it is Drumbeat "
                 "under another DRUMBEAT_MAIL_DOMAIN, use the same settings here).")


CERTIFICATE_WARN_DAYS = 14


def check_intake_tls(settings: Settings) -> Check:
    """The intake's STARTTLS certificate: readable, its key, its expiry, its names."""
    from datetime import UTC, datetime

    from mail.doors.tls import TlsSetupError, certificate_facts, door_tls

    name = "intake STARTTLS"
    try:
        tls = door_tls(settings)
    except TlsSetupError as problem:
        return Check(name, FAIL, f"{problem}".removesuffix(".") + "; the intake will not start.",
                     "point DRUMBEAT_SMTPD_TLS_CERT and DRUMBEAT_SMTPD_TLS_KEY at the PEM "
                     "certificate (chain) and its private key, readable by this user.")
    if tls is None:
        return Check(name, SKIP, "no certificate set (DRUMBEAT_SMTPD_TLS_CERT, _KEY): the "
                     "intake offers no STARTTLS.", essential=False)
    assert settings.smtpd_tls_cert is not None
    facts = certificate_facts(settings.smtpd_tls_cert)
    days = facts.days_left(datetime.now(UTC))
    until = f"{facts.not_after:%Y-%m-%d %H:%M} UTC"
    names = ", ".join(facts.names) or "no names"
    if days <= 0:
        return Check(name, FAIL, f"the certificate for {names} expired on {until}.",
                     "renew it (or point DRUMBEAT_SMTPD_TLS_CERT at the renewed one) and "
                     "restart the intake.")
    required = (" STARTTLS is required outside DRUMBEAT_TRUSTED_RELAYS." if tls.required
                else "")
    if not facts.covers(settings.mail_domain):
        return Check(name, WARN, f"the certificate covers {names}, not "
                     f"{settings.mail_domain} (DRUMBEAT_MAIL_DOMAIN); valid until {until}."
                     + required,
                     "fine when senders reach the intake under one of those names (the MX "
                     "host); otherwise use a certificate that names the mail domain.",
                     essential=False)
    if days < CERTIFICATE_WARN_DAYS:
        return Check(name, WARN, f"the certificate for {names} expires in {days:.0f} "
                     f"day(s), on {until}." + required,
                     "renew it before then and restart the intake (it reads the files at "
                     "start).", essential=False)
    return Check(name, OK, f"certificate for {names}, key matches, valid until {until}."
                 + required)


def _smtp_banner(family: int, address: tuple[object, ...]) -> str | None:
    host = str(address[0])
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1" if family == socket.AF_INET else "::1"
    try:
        with socket.create_connection((host, int(str(address[1]))),
                                      timeout=TIMEOUT) as connection:
            data = connection.recv(512)
            connection.sendall(b"QUIT\r\n")
    except OSError:
        return None
    line = data.decode("utf-8", "replace").splitlines()[0].strip() if data else ""
    return line if line.startswith("220") else None


# --- the command --------------------------------------------------------------------------

CHECKS: tuple[Callable[[Settings], Check], ...] = (
    check_database, check_broker, check_outgoing, check_imap, check_domain, check_mx,
    check_secret, check_sender_policy, check_intake_port, check_intake_tls)


def run_checks(settings: Settings | None = None) -> list[Check]:
    """Every check, in order; without settings, they are loaded (and that is the first check)."""
    if settings is None:
        first, settings = check_settings()
        if settings is None:
            return [first]
    else:
        first = Check("settings", OK, "loaded.")
    results = [first]
    for check in CHECKS:
        try:
            results.append(check(settings))
        except Exception as exc:  # a check must never hide the others
            results.append(Check(check.__name__.removeprefix("check_").replace("_", " "),
                                 FAIL, f"the check itself failed: {_one_line(exc)}.",
                                 "report this as a bug, with the line above."))
    return results


def doctor(
    json_output: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]
    = False,
) -> None:
    """Check the deployment: settings, database, broker, relay, IMAP, domain, senders, intake.

    Reads and connects, never changes anything or sends mail. Exit status 0 when
    every essential check passes, 1 otherwise; warnings (!) do not fail.
    """
    results = run_checks()
    ok = not any(check.failed for check in results)
    if json_output:
        typer.echo(json.dumps({"ok": ok, "checks": [asdict(check) for check in results]},
                              ensure_ascii=False, indent=2))
    else:
        for check in results:  # colours only on a terminal
            typer.secho(check.line(), fg=COLOURS[check.status])
        failed = sum(check.failed for check in results)
        typer.echo("All essential checks pass." if ok else
                   f"{failed} essential check(s) failed.")
    raise typer.Exit(0 if ok else 1)


def register(app: typer.Typer) -> None:
    app.command()(doctor)
