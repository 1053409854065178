package api

import (
	"net/http"
	"strconv"

	"github.com/gapmap/gapmap/geo"
	"github.com/gapmap/gapmap/geo/service"
	"github.com/gorilla/mux"
)

// webhookOut is a webhook as the API shows it; Secret only in the reply
// that made it.
type webhookOut struct {
	geo.Webhook
	Secret string `json:"secret,omitempty"`
}

func (s *Server) handleWebhookCreate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		URL     string   `json:"url"`
		Events  []string `json:"events"`
		Carrier string   `json:"carrier"`
	}
	if err := s.decodeJSONObject(w, r, &in); err != nil {
		return err
	}
	wh, secret, err := s.svc.CreateWebhook(r.Context(), &PrincipalFrom(r.Context()).Viewer,
		service.WebhookSpec{URL: in.URL, Events: in.Events, Carrier: in.Carrier})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/webhooks/"+wh.ID)
	return writeJSON(w, http.StatusCreated, webhookOut{Webhook: wh, Secret: secret})
}

func (s *Server) handleWebhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.svc.Webhooks(r.Context(), &PrincipalFrom(r.Context()).Viewer)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Webhooks []geo.Webhook `json:"webhooks"`
	}{ws})
}

func (s *Server) handleWebhookDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteWebhook(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if q := r.URL.Query(); q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > 1000 {
			return badField("limit", "must be an integer from 1 to 1000")
		}
		limit = n
	}
	ds, err := s.svc.WebhookDeliveries(r.Context(), &PrincipalFrom(r.Context()).Viewer, mux.Vars(r)["id"], limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		Deliveries []geo.Delivery `json:"deliveries"`
	}{ds})
}
