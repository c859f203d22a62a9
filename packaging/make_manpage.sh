#!/bin/sh
# Writes docket(1) to standard output: the hand-written sections below plus,
# for the program and every subcommand, the option list its own --help
# prints, so the page and --help cannot disagree.
# Usage: make_manpage.sh path/to/docket VERSION
set -eu
docket=$1
version=$2

# Help text as literal roff: backslashes escaped, control characters at a
# line start neutralised.
literal() {
  printf '.nf\n'
  sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
  printf '.fi\n'
}

cat <<HEADER
.TH DOCKET 1 "" "docket $version" "User Commands"
.SH NAME
docket \- a document database with MongoDB semantics: server, data tools, embedded engine
.SH SYNOPSIS
.B docket serve
[\fIOPTIONS\fR]
.br
.B docket mongod
[\fImongod options\fR] [\fB\-\-config\fR \fIFILE\fR]
.br
.B docket dump\fR|\fBrestore\fR|\fBexport\fR|\fBimport\fR|\fBbackup
[\fIOPTIONS\fR]
.SH DESCRIPTION
Docket answers the MongoDB wire protocol, so MongoDB's drivers, ODMs and
mongosh work against it unchanged. \fBdocket serve\fR runs the server with
Docket's own options; \fBdocket mongod\fR (or the program started under the
name \fBmongod\fR) takes mongod's command line and configuration file, as
test launchers and service managers pass them. The data tools are MongoDB
clients that work against Docket or any MongoDB server: \fBdump\fR and
\fBrestore\fR read and write mongodump's directory and archive formats,
\fBexport\fR and \fBimport\fR move Extended JSON, CSV and TSV as mongoexport
and mongoimport, and \fBbackup\fR asks a running server for a consistent
copy of its database (the createBackup command).
.SH "MONGOD COMMAND LINE"
Taken: \fB\-\-port\fR, \fB\-\-dbpath\fR (default /data/db, which must exist),
\fB\-\-bind_ip\fR (one address), \fB\-\-bind_ip_all\fR, \fB\-\-replSet\fR,
\fB\-\-storageEngine\fR (ephemeralForTest and inMemory keep everything in
memory; wiredTiger is on disk), \fB\-\-maxConns\fR,
\fB\-\-wiredTigerCacheSizeGB\fR, \fB\-\-oplogSize\fR, \fB\-\-quiet\fR,
\fB\-\-logpath\fR, \fB\-\-logappend\fR, \fB\-\-setParameter\fR
(enableTestCommands, transactionLifetimeLimitSeconds, notablescan,
ttlMonitorEnabled, ttlMonitorSleepSecs), \fB\-\-config\fR/\fB\-f\fR, \fB\-\-version\fR.
Accepted and ignored with a log line, since they change nothing a client sees:
\fB\-\-noauth\fR, \fB\-\-nounixsocket\fR, \fB\-\-journal\fR, \fB\-\-nojournal\fR,
\fB\-\-ipv6\fR, \fB\-\-enableMajorityReadConcern\fR, \fB\-\-unixSocketPrefix\fR,
\fB\-\-filePermissions\fR, \fB\-\-timeStampFormat\fR, \fB\-\-tlsMode\fR/\fB\-\-sslMode\fR
disabled, other \fB\-\-setParameter\fR names. Refused with exit code 2:
\fB\-\-fork\fR, \fB\-\-auth\fR, \fB\-\-keyFile\fR and any other option.
.SH "CONFIGURATION FILE"
\fB\-\-config\fR \fIFILE\fR reads mongod's YAML configuration. Each setting
means what its command-line equivalent means: net.port, net.bindIp,
net.bindIpAll, net.maxIncomingConnections, net.ipv6,
net.unixDomainSocket.enabled, net.unixDomainSocket.pathPrefix,
net.unixDomainSocket.filePermissions, net.tls.mode, net.ssl.mode,
storage.dbPath, storage.engine, storage.journal.enabled,
storage.wiredTiger.engineConfig.cacheSizeGB, systemLog.destination (file),
systemLog.path, systemLog.logAppend, systemLog.quiet, systemLog.timeStampFormat,
replication.replSetName, replication.oplogSizeMB,
replication.enableMajorityReadConcern, security.authorization (disabled),
security.keyFile, processManagement.fork, setParameter.\fIname\fR.
Any other setting is refused at start with its dotted name. Options given on
the command line override the file's.
HEADER

printf '.SH OPTIONS\n'
"$docket" --help | literal
for sub in $("$docket" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}'); do
  printf '.SS "docket %s"\n' "$sub"
  "$docket" "$sub" --help | sed -e "s|^Usage: [^ ]*docket|Usage: docket|" | literal
done

cat <<'FOOTER'
.SH FILES
.TP
.I /etc/docket/docket.conf
the service's configuration (the Debian package's systemd unit, docket.service)
.TP
.I /var/lib/docket
the service's database
.TP
.I /var/log/docket/docket.log
the service's log
.SH "EXIT STATUS"
0 on success; 1 when a data tool fails (its last line on standard error
says why); 2 for options \fBdocket mongod\fR refuses.
.SH "SEE ALSO"
.BR mongod (1),
.BR mongodump (1),
.BR mongorestore (1),
.BR systemctl (1)
FOOTER
