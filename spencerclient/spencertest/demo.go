package spencertest

import (
	"embed"
	"fmt"
	"net/http"
	"path"
	"time"
)

// The demo userlists: the shipped config.toml lists them.
const (
	DemoLobby   = "3f0c6f9e-2b1a-4c55-9d0e-8a7b6c5d4e3f"
	DemoCanteen = "9b2d7c41-5e8a-4f3b-a6c1-0d2e4f6a8b9c"
)

// The demo's illustrations are rasters (JPEG, and one WebP), as the images of real news
// are: the server fetches, resizes and serves them from its own origin like any other.
//
//go:embed demoimages/*.jpg demoimages/*.webp
var demoImages embed.FS

// demoImageTypes are the types the fake sends its images with.
var demoImageTypes = map[string]string{".jpg": "image/jpeg", ".webp": "image/webp"}

// LoadDemo fills the fake with two userlists of realistic news and changes one item every
// `every` so that live updates can be seen, until Close. The images are shipped in the
// binary (nothing comes from the internet): the fake serves them at URL+"/images/", and
// the publications point at imageBase+"/NAME" (imageBase "" for the fake's own URL), so
// that a server can serve them from its own origin to screens on other machines.
func (s *Server) LoadDemo(every time.Duration, imageBase string) {
	if imageBase == "" {
		imageBase = s.URL + "/images"
	}
	s.mu.Lock()
	s.imageBase = imageBase
	s.mu.Unlock()
	entries, _ := demoImages.ReadDir("demoimages")
	for _, e := range entries {
		b, _ := demoImages.ReadFile("demoimages/" + e.Name())
		s.SetImage(e.Name(), demoImageTypes[path.Ext(e.Name())], b)
	}
	now := time.Now()
	s.SetPublications(DemoCanteen, map[string]any{"data": s.canteenNews(now)})
	s.SetPublications(DemoLobby, s.lobbyNews(now, 0))

	stop := make(chan struct{})
	s.mu.Lock()
	s.stopDemo = stop
	s.mu.Unlock()
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-t.C:
				s.SetPublications(DemoLobby, s.lobbyNews(now, n))
			}
		}
	}()
}

func (s *Server) image(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.imageBase + "/" + name
}

// ImageHandler serves the demo images by name (the last element of the path).
func (s *Server) ImageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.SetPathValue("name", path.Base(r.URL.Path))
		s.handleImage(w, r)
	})
}

// lobbyNews is the lobby's news; its first item changes with n.
func (s *Server) lobbyNews(start time.Time, n int) []map[string]any {
	day := func(d int) string { return start.Add(time.Duration(-d) * 24 * time.Hour).UTC().Format(time.RFC3339) }
	visitors := 40 + (n*7)%55
	return []map[string]any{
		{
			"id": "live-visitors",
			"title": map[string]string{
				"en-US": fmt.Sprintf("Today at HQ: %d visitors signed in", visitors),
				"nl-BE": fmt.Sprintf("Vandaag op het hoofdkantoor: %d bezoekers", visitors),
				"fr-BE": fmt.Sprintf("Aujourd'hui au siège : %d visiteurs", visitors),
			},
			"summary": map[string]string{
				"en-US": fmt.Sprintf("Updated %s. Please welcome our guests and remind them to wear their badge; the visitor lounge on floor 2 has fresh coffee.", time.Now().Format("15:04:05")),
				"nl-BE": fmt.Sprintf("Bijgewerkt om %s. Heet onze gasten welkom en herinner hen aan hun badge; in de bezoekerslounge op de tweede verdieping staat verse koffie.", time.Now().Format("15:04:05")),
				"fr-BE": fmt.Sprintf("Mis à jour à %s. Accueillez nos invités et rappelez-leur de porter leur badge ; du café frais les attend au salon du 2e étage.", time.Now().Format("15:04:05")),
			},
			"publishedAt": time.Now().UTC().Format(time.RFC3339),
			"image":       map[string]string{"url": s.image("office.jpg")},
			"isPinned":    true,
			"author":      map[string]string{"firstName": "Front", "lastName": "Desk"},
		},
		{
			"uuid":        "town-hall-q4",
			"headline":    "Town hall on Friday: our plans for next year",
			"body":        "<p>Join the leadership team in the auditorium at <strong>16:00</strong>, or follow the stream on the intranet. Questions can be sent in advance through the Spencer app.</p><p>Drinks and snacks afterwards in the atrium.</p>",
			"publishedAt": day(1),
			"coverImage":  s.image("townhall.jpg"),
			"deepLink":    "https://intranet.example.com/news/town-hall-q4",
			"createdBy":   map[string]string{"displayName": "Internal Communications"},
			"translations": map[string]map[string]string{
				"nl-BE": {"headline": "Personeelsvergadering vrijdag: onze plannen voor volgend jaar", "body": "<p>Kom om <strong>16:00</strong> naar de aula, of volg de stream op het intranet. Vragen kunt u vooraf stellen in de Spencer-app.</p><p>Daarna een drankje in het atrium.</p>"},
				"fr-BE": {"headline": "Assemblée du personnel vendredi : nos projets pour l'an prochain", "body": "<p>Rejoignez la direction à l'auditorium à <strong>16:00</strong>, ou suivez la diffusion sur l'intranet. Posez vos questions à l'avance dans l'application Spencer.</p><p>Verre de l'amitié ensuite dans l'atrium.</p>"},
			},
		},
		{
			"id":         1042,
			"title":      "Bike to work week: 1,284 km cycled so far",
			"intro":      "Teams from all three sites are racing for the golden pedal. Log your rides in the app before Sunday evening.",
			"created_at": day(2),
			"thumbnail":  []any{map[string]string{"src": s.image("bike.jpg")}},
			"url":        "https://intranet.example.com/news/bike-week",
			"author":     "Sustainability Team",
		},
		{
			"id":              "phishing-drill",
			"title":           "Watch out for fake parcel notifications",
			"content":         "We see a wave of text messages about parcels held at customs. Do not click the link: report the message to the service desk on extension 4444.",
			"publicationDate": day(3),
			"media":           map[string]string{"original": s.image("security.jpg")},
			"author":          map[string]string{"name": "IT Security"},
		},
		{
			"id":          "winter-schedule",
			"title":       "Winter opening hours of the building",
			"body":        "From 1 December the building opens at 7:00 and closes at 19:00. The car park gate closes at 19:30.",
			"publishedAt": day(5),
			"image":       s.image("winter.jpg"),
			"author":      "Facility Management",
		},
	}
}

// canteenNews is the canteen's news, in a wrapped shape with translations.
func (s *Server) canteenNews(start time.Time) []map[string]any {
	day := func(d int) int64 { return start.Add(time.Duration(-d) * 24 * time.Hour).UnixMilli() }
	return []map[string]any{
		{
			"id":          "menu-week",
			"title":       "This week's menu: soup, pasta and a vegan curry",
			"summary":     "Monday pumpkin soup, Wednesday fresh pasta bar, Friday chickpea and spinach curry. Salad bar every day.",
			"publishedAt": day(0),
			"imageUrl":    s.image("canteen.jpg"),
			"link":        "https://intranet.example.com/canteen/menu",
			"translations": []map[string]string{
				{"locale": "nl-BE", "title": "Menu van de week: soep, pasta en een vegan curry", "summary": "Maandag pompoensoep, woensdag verse pastabar, vrijdag curry met kikkererwten en spinazie."},
				{"locale": "fr-BE", "title": "Menu de la semaine : soupe, pâtes et un curry végétalien", "summary": "Lundi soupe au potiron, mercredi bar à pâtes fraîches, vendredi curry aux pois chiches et épinards."},
			},
			"author": "Canteen Team",
		},
		{
			"id":          "volunteer-day",
			"title":       "Volunteer day: 60 places left at the food bank",
			"body":        "Spend a day with colleagues sorting donations. Sign up in the app; your manager has already approved the day off.",
			"publishedAt": day(1),
			"image":       s.image("volunteer.webp"),
			"webUrl":      "https://intranet.example.com/volunteer",
			"author":      map[string]string{"firstName": "Amira", "lastName": "Jansen"},
		},
		{
			"id":          "no-image-tip",
			"title":       "Bring your own cup and save 20 cents",
			"body":        "Every hot drink in a cup you bring yourself is 20 cents cheaper. Together we saved 14,000 paper cups last year.",
			"publishedAt": day(4),
		},
	}
}
