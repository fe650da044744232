// PostgreSQL's client library (Debian's libpq-dev), for the history on a server.
#include <libpq-fe.h>
