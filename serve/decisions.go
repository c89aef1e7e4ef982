package serve

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/sloguard/sloguard/serve/store"
)

// decisions is the audit query: GET /v1/decisions?environment=production
// (also repository, project, platform, limit), newest first, each with
// its decision record. Job tokens never leave the state file.
func (s *Server) decisions(w http.ResponseWriter, r *http.Request) {
	if s.decToken != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.decToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sloguard"`)
			writeError(w, http.StatusUnauthorized, "send the token of serve.decisions_token_env as Authorization: Bearer")
			return
		}
	}
	q := r.URL.Query()
	query := store.Query{Environment: q.Get("environment"), Repository: q.Get("repository"), Project: q.Get("project"), Platform: q.Get("platform")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, "limit %q: give a number from 1 to 1000", l)
			return
		}
		query.Limit = n
	}
	list, err := s.st.List(query)
	if err != nil {
		s.log.Error("cannot read the state file", "error", err)
		writeError(w, http.StatusInternalServerError, "cannot read the state file: see sloguard's log")
		return
	}
	out := make([]store.Evaluation, 0, len(list))
	for _, e := range list {
		v := *e
		if v.Azure != nil {
			a := *v.Azure
			a.AuthToken = ""
			v.Azure = &a
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"decisions": out})
}
