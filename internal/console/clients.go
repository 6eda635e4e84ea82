package console

import "net/http"

// ClientPages is what Клиенты needs of the services. The zero value leaves
// the section "not ready yet".
type ClientPages struct{}

// clientRoutes registers Клиенты's routes and, when configured, its page in
// c.sectionPages.
func (c *Console) clientRoutes(mux *http.ServeMux) {}
