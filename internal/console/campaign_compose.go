package console

import "net/http"

// ComposePages is what Рассылки's composer needs of the services. The
// zero value leaves no composer.
type ComposePages struct{}

// composeRoutes registers the composer's routes.
func (c *Console) composeRoutes(mux *http.ServeMux) {}
