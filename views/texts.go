package views

// Texts are the words the screen and the embed add to the news, in one language. A text
// may hold a placeholder in braces ({name}, {id}, {time}), filled in where it is shown.
// Each is a whole sentence, so that a translation can put the placeholder where its
// language wants it.
type Texts struct {
	News         string // the name of a userlist that has none of its own
	Demo         string // the badge of the built-in demo content
	DemoNote     string // after the badge, in the embed: what the demo content is
	LastUpdated  string // the marker of news that may be old: {time} is when it was fresh
	Pinned       string // the badge of a pinned publication
	ScanToRead   string // under a slide's QR code
	QRLabel      string // the QR code, for screen readers
	UnknownTitle string // a screen whose userlist Spencer does not know
	UnknownText  string // {id} is the userlist's id
	LoadingTitle string // nothing from Spencer yet
	LoadingText  string // {name} is the userlist's name
	EmptyTitle   string // Spencer answered with no news
	EmptyText    string // {name} is the userlist's name
	// The embed's readers are the intranet's, who can do nothing about a wrong userlist
	// id: its unknown state says so in their words, and leaves the id to the page's editor.
	EmbedUnknownTitle string
	EmbedUnknownText  string
	// The labels of the operator's announcements: an urgent one takes the whole screen, an
	// informative one is a banner.
	Urgent       string
	Announcement string
	// The pairing view of a TV the server does not know yet: what it is, and what to do
	// with its code ({address} is the server's /admin).
	PairTitle   string
	PairHow     string
	PairQRLabel string
}

var english = Texts{
	News:              "News",
	Demo:              "Demo",
	DemoNote:          "sample news, not your organisation's",
	LastUpdated:       "Last updated {time}",
	Pinned:            "Pinned",
	ScanToRead:        "Scan to read more",
	QRLabel:           "QR code to the article",
	UnknownTitle:      "This screen's userlist is not known to Spencer",
	UnknownText:       "Userlist {id} was not found. Check the address of this screen, or ask your Spencer administrator for the right userlist id.",
	LoadingTitle:      "Waiting for news…",
	LoadingText:       "{name} will appear here as soon as Spencer answers.",
	EmptyTitle:        "No news right now",
	EmptyText:         "New publications for {name} will show up here by themselves.",
	EmbedUnknownTitle: "News is not available here.",
	EmbedUnknownText:  "The news list this widget points to is not known to Spencer; the editor of this page can check the widget's address.",
	Urgent:            "Urgent",
	Announcement:      "Announcement",
	PairTitle:         "Set up this screen",
	PairHow:           "Scan the QR code with a phone, or open {address} on a computer and enter this code under Screens.",
	PairQRLabel:       "QR code that opens the pairing form",
}

// dutch is written for Flanders and the Netherlands alike; it addresses nobody where it
// can, so that it need not choose between "je" and "u".
var dutch = Texts{
	News:              "Nieuws",
	Demo:              "Demo",
	DemoNote:          "voorbeeldnieuws, niet uw eigen nieuws",
	LastUpdated:       "Laatst bijgewerkt om {time}",
	Pinned:            "Vastgepind",
	ScanToRead:        "Scan om verder te lezen",
	QRLabel:           "QR-code naar het artikel",
	UnknownTitle:      "Spencer kent de gebruikerslijst van dit scherm niet",
	UnknownText:       "Gebruikerslijst {id} werd niet gevonden. Controleer het adres van dit scherm, of vraag de Spencer-beheerder naar de juiste id van de gebruikerslijst.",
	LoadingTitle:      "Wachten op nieuws…",
	LoadingText:       "{name} verschijnt hier zodra Spencer antwoordt.",
	EmptyTitle:        "Momenteel geen nieuws",
	EmptyText:         "Nieuwe berichten voor {name} verschijnen hier vanzelf.",
	EmbedUnknownTitle: "Het nieuws is hier niet beschikbaar.",
	EmbedUnknownText:  "Spencer kent de nieuwslijst van deze widget niet; de redacteur van deze pagina kan het adres van de widget controleren.",
	Urgent:            "Dringend",
	Announcement:      "Mededeling",
	PairTitle:         "Dit scherm instellen",
	PairHow:           "Scan de QR-code met een telefoon, of open {address} op een computer en vul deze code in onder Screens.",
	PairQRLabel:       "QR-code naar het koppelformulier",
}

// french follows French typography, as Belgium does: a no-break space inside guillemets
// and before a semicolon. A userlist's name is quoted, so that the verb agrees with it
// whatever it is.
var french = Texts{
	News:              "Actualités",
	Demo:              "Démo",
	DemoNote:          "actualités fictives, pas les vôtres",
	LastUpdated:       "Dernière mise à jour à {time}",
	Pinned:            "Épinglé",
	ScanToRead:        "Scannez pour lire la suite",
	QRLabel:           "Code QR vers l’article",
	UnknownTitle:      "Spencer ne connaît pas la liste d’utilisateurs de cet écran",
	UnknownText:       "La liste d’utilisateurs {id} est introuvable. Vérifiez l’adresse de cet écran ou demandez le bon identifiant de liste à votre administrateur Spencer.",
	LoadingTitle:      "En attente des actualités…",
	LoadingText:       "«\u00a0{name}\u00a0» s’affichera ici dès que Spencer répondra.",
	EmptyTitle:        "Aucune actualité pour le moment",
	EmptyText:         "Les nouvelles publications de «\u00a0{name}\u00a0» s’afficheront ici automatiquement.",
	EmbedUnknownTitle: "Les actualités ne sont pas disponibles ici.",
	EmbedUnknownText:  "Spencer ne connaît pas la liste d’actualités de ce widget\u00a0; l’éditeur de cette page peut vérifier l’adresse du widget.",
	Urgent:            "Urgent",
	Announcement:      "Annonce",
	PairTitle:         "Configurer cet écran",
	PairHow:           "Scannez le code QR avec un téléphone, ou ouvrez {address} sur un ordinateur et saisissez ce code sous Screens.",
	PairQRLabel:       "Code QR vers le formulaire d’association",
}

// german addresses its readers as "Sie", as signage in German does; a userlist's name is
// quoted, so that the verb agrees with it whatever it is.
var german = Texts{
	News:              "Aktuelles",
	Demo:              "Demo",
	DemoNote:          "Beispielnachrichten, nicht Ihre eigenen",
	LastUpdated:       "Zuletzt aktualisiert um {time}",
	Pinned:            "Angeheftet",
	ScanToRead:        "Zum Weiterlesen scannen",
	QRLabel:           "QR-Code zum Artikel",
	UnknownTitle:      "Spencer kennt die Benutzerliste dieses Bildschirms nicht",
	UnknownText:       "Die Benutzerliste {id} wurde nicht gefunden. Prüfen Sie die Adresse dieses Bildschirms oder fragen Sie Ihre Spencer-Administration nach der richtigen Benutzerlisten-ID.",
	LoadingTitle:      "Warten auf Neuigkeiten…",
	LoadingText:       "„{name}“ erscheint hier, sobald Spencer antwortet.",
	EmptyTitle:        "Zurzeit keine Neuigkeiten",
	EmptyText:         "Neue Beiträge für „{name}“ erscheinen hier automatisch.",
	EmbedUnknownTitle: "Neuigkeiten sind hier nicht verfügbar.",
	EmbedUnknownText:  "Spencer kennt die Nachrichtenliste dieses Widgets nicht; die Redaktion dieser Seite kann die Adresse des Widgets prüfen.",
	Urgent:            "Dringend",
	Announcement:      "Mitteilung",
	PairTitle:         "Diesen Bildschirm einrichten",
	PairHow:           "Scannen Sie den QR-Code mit einem Telefon oder öffnen Sie {address} auf einem Computer und geben Sie diesen Code unter Screens ein.",
	PairQRLabel:       "QR-Code zum Kopplungsformular",
}
