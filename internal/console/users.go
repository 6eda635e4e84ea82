package console

import "net/http"

// UserPages is what Пользователи needs of the services. The zero value leaves
// the section "not ready yet".
type UserPages struct{}

// userRoutes registers Пользователи's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) userRoutes(mux *http.ServeMux) {}
