/*
 * api.h -- corp-api's requests, apart from the HTTP library (corp-api.1;
 * the server loop, libwebsockets, is cmd/corp-api.c).  A request comes
 * in whole (method, path, query, Authorization, peer address, body);
 * the answer is a status, a JSON object and maybe a job for a worker.
 *
 * Contract: every answer's body is a JSON object, an error one
 * {"error": "..."}.  A request acts as the user of its bearer token
 * (apitoken.h) through the same lib entry points, and so the same
 * permission checks, as the command line's --as LOGIN; there is no
 * second permission rule here.  Each entry point owns its transaction:
 * none is open when corp_api_handle returns, and none is open while the
 * request or the answer travels.  The token never reaches a message.
 *
 * Failed authentications (a credential presented and wrong; none at all
 * is not counted) are counted per peer address (corp_api_peer_key):
 * auth_fails of them within auth_window_ms turn every authenticated
 * request of that address away (429 with retry_after) until the window
 * ends; a locked address is never forgotten to make room.
 */
#ifndef CORP_API_H
#define CORP_API_H

#include <stddef.h>
#include <jansson.h>

struct corp_db;
struct corp_err;
struct corp_analysis_job;

#define CORP_API_PEERS	1024	/* addresses the limiter remembers */

struct corp_api_peer {
	char		 addr[64];
	long long	 start_ms;	/* the window's first failure */
	int		 fails;
};

/* corp-api's WebSocket wake-ups, kept by its loop (cmd/corp-api.c),
 * shown by GET /api/ops/ws (corp-api.1). */
struct corp_api_ws {
	const char	*wake;		/* "notify" or "poll" */
	long long	 clients;	/* WebSocket connections open */
	long long	 ticks;		/* while some client was subscribed */
	long long	 notifications;	/* other sessions' NOTIFYs heard */
	long long	 log_reads;	/* reads of the log's last id */
};

struct corp_api {
	struct corp_db	*db;
	struct corp_api_ws ws;
	const char	*proposer;	/* the name runs record */
	long long	 lease_s;
	int		 auth_fails;
	long long	 auth_window_ms;
	struct corp_api_peer peers[CORP_API_PEERS];
};

struct corp_api_req {
	const char	*method;	/* "GET", "POST", ... */
	const char	*path;		/* decoded, without the query */
	json_t		*query;		/* name -> value strings */
	const char	*auth;		/* the Authorization value or NULL */
	const char	*tg_secret;	/* X-Telegram-Bot-Api-Secret-Token */
	const char	*peer;		/* the peer's address */
	const char	*body;
	size_t		 body_len;
};

struct corp_api_resp {
	int		 status;
	json_t		*body;		/* always an object */
	long long	 retry_after;	/* seconds; 0: no header */
	char		 allow[32];	/* 405: the methods of the path */
	struct corp_analysis_job *job;	/* 202: batches to work, caller's */
	long long	 job_run;
	char		 user[65];	/* who acted, for the log ("" none) */
	char		 note[256];	/* a server-side cause, for the log */
};

/* Answer req; resp is filled whatever happens (500 on a failure). */
void	corp_api_handle(struct corp_api *, const struct corp_api_req *,
	    struct corp_api_resp *);
/*
 * req judged on its headers alone, before its body is read (corp-api.1
 * "Errors"): its route and method (404, 405), its credential and the
 * limiter (401, 429), its query (400).  0 when the body may be read
 * (resp untouched); else resp holds the answer.  corp_api_handle then
 * judges the whole request again.
 */
int	corp_api_admit(struct corp_api *, const struct corp_api_req *,
	    struct corp_api_resp *);
/* The limiter's key of a peer address (the parsed address; IPv6 by its
 * /64), into out. */
void	corp_api_peer_key(const char *addr, char *out, size_t size);
/* The error answer with status and message (for the server's own:
 * 413, 404 before a body is read, ...). */
void	corp_api_error(struct corp_api_resp *, int status, const char *msg);

/*
 * token (a bare token, no scheme) as the limiter and corp_apitoken_auth
 * judge a request's: 0 with *uid and *login (fresh); else the corp code
 * with the message, and *status 401 (a bad token, counted), 429 (the
 * address is limited) or 503/500.
 */
int	corp_api_auth_token(struct corp_api *, const char *peer,
	    const char *token, long long *uid, char **login, int *status,
	    struct corp_err *);

#endif
