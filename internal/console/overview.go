package console

import "net/http"

// OverviewPages is what Обзор needs beyond the session: its numbers.
type OverviewPages struct{}

// overviewRoutes registers Обзор's routes beyond the page itself.
func (c *Console) overviewRoutes(mux *http.ServeMux) {}

// overview is Обзор.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "overview", "overview.title", nil)
}
