package order

import (
	"context"
	"strconv"
	"strings"

	"github.com/certd/certd/internal/logo"
	"github.com/certd/certd/internal/policy"
	"github.com/certd/certd/internal/problem"
	"github.com/certd/certd/internal/store"
)

// LogoFetcher fetches the images of Wi-Fi orders.
type LogoFetcher interface {
	Fetch(ctx context.Context, url string) (logo.Image, error)
}

// WiFiRequest is a POST /order/wfa body as the edge decoded it: the SSL
// order's parameters (without signature_hash and ev) plus the logos and
// friendly names.
type WiFiRequest struct {
	SSLRequest
	DefaultLogoURL  string
	AdditionalLogos []store.Logo // Language and URL as sent
	FriendlyNames   []store.FriendlyName
}

// Limits on a Wi-Fi order's collections.
const (
	MaxLogos         = 16
	MaxFriendlyNames = 16
	maxFriendlyName  = 252 // Hotspot 2.0: 3-octet language code + name in 255 octets
)

// CheckWiFi validates a Wi-Fi order's fields without fetching anything.
func (s *Service) CheckWiFi(r WiFiRequest) error {
	_, err := s.rules.checkWiFi(r)
	return err
}

func (rl Rules) checkWiFi(r WiFiRequest) (checkedSSL, error) {
	r.SSLRequest.EV, r.SSLRequest.SignatureHash = "", ""
	c, err := rl.checkSSL(r.SSLRequest)
	ps := problem.List(problem.Flatten(err))
	if strings.TrimSpace(r.DefaultLogoURL) == "" {
		ps = append(ps, problem.Required("default_logo_url", "Default logo URL is required."))
	}
	if len(r.AdditionalLogos) > MaxLogos {
		ps = append(ps, problem.Invalid("additional_logos", "At most 16 additional logos."))
	}
	for _, l := range r.AdditionalLogos {
		if !policy.ValidLanguage(l.Language) {
			ps = append(ps, problem.Invalid("additional_logos", "Each additional logo needs a language from the API's ISO 639-2 list, got "+strconv.Quote(truncate(l.Language, 20))+"."))
		}
		if strings.TrimSpace(l.URL) == "" {
			ps = append(ps, problem.Required("additional_logos", "Each additional logo needs a url."))
		}
	}
	switch n := len(r.FriendlyNames); {
	case n == 0:
		ps = append(ps, problem.Required("friendly_names", "At least one friendly name is required."))
	case n > MaxFriendlyNames:
		ps = append(ps, problem.Invalid("friendly_names", "At most 16 friendly names."))
	}
	for _, f := range r.FriendlyNames {
		if !policy.ValidLanguage(f.Language) {
			ps = append(ps, problem.Invalid("friendly_names", "Each friendly name needs a language from the API's ISO 639-2 list, got "+strconv.Quote(truncate(f.Language, 20))+"."))
		}
		if strings.TrimSpace(f.Text) == "" {
			ps = append(ps, problem.Required("friendly_names", "Each friendly name needs a text."))
		} else if len(f.Text) > maxFriendlyName || !policy.ValidText(f.Text, maxFriendlyName) {
			ps = append(ps, problem.Invalid("friendly_names", "A friendly name must be at most 252 bytes of text without control characters."))
		}
	}
	return c, ps.Err()
}

// CreateWiFi validates a Wi-Fi order, fetches each logo to record its
// media type and hash, and stores the order.
func (s *Service) CreateWiFi(ctx context.Context, accountID int64, r WiFiRequest) (store.Order, error) {
	c, err := s.rules.checkWiFi(r)
	if err != nil {
		return store.Order{}, err
	}
	if err := s.methodAvailable(c.dcvMethod); err != nil {
		return store.Order{}, err
	}
	wifi := &store.WiFi{}
	var ps problem.List
	fetch := func(field, lang, url string) store.Logo {
		img, err := s.logos.Fetch(ctx, strings.TrimSpace(url))
		if err != nil {
			ps = append(ps, problem.Invalid(field, "Logo "+truncate(url, 200)+": "+err.Error()+"."))
			return store.Logo{}
		}
		return store.Logo{Language: strings.ToLower(lang), URL: img.URL, MediaType: img.MediaType, SHA256: img.SHA256,
			Size: img.Size, Width: img.Width, Height: img.Height}
	}
	wifi.DefaultLogo = fetch("default_logo_url", "", r.DefaultLogoURL)
	for _, l := range r.AdditionalLogos {
		wifi.AdditionalLogos = append(wifi.AdditionalLogos, fetch("additional_logos", l.Language, l.URL))
	}
	if err := ps.Err(); err != nil {
		return store.Order{}, err
	}
	for _, f := range r.FriendlyNames {
		wifi.FriendlyNames = append(wifi.FriendlyNames, store.FriendlyName{Language: strings.ToLower(f.Language), Text: strings.TrimSpace(f.Text)})
	}
	o := s.newOrder(accountID, ProductWiFi, c)
	o.Extra.WiFi = wifi
	if err := s.createOrder(ctx, &o); err != nil {
		return store.Order{}, err
	}
	s.created(ctx, &o)
	return o, nil
}
