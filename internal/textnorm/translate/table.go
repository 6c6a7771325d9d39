package translate

// arabic maps an Arabic-script word (normalised by normArabic, without
// the article) to its English reading in the lists' English names.
// README.md gives the source of each group of entries.
var arabic = map[string]string{
	// Descriptors (issue 12's list, with their Arabic and Persian forms).
	"حركة": "movement", "حركه": "movement", "حركت": "movement",
	"جماعة": "group", "جماعه": "group", "جماعت": "group",
	"تنظيم": "organization", "منظمة": "organization", "منظمه": "organization", "سازمان": "organization",
	"شبكة": "network", "شبكه": "network",
	"جبهة": "front", "جبهه": "front",
	"حزب":   "party",
	"كتائب": "brigades", "لواء": "brigade", "كتيبة": "battalion",
	"مؤسسة": "foundation", "موسسة": "foundation", "موسسه": "foundation", "بنياد": "foundation",
	"لجنة": "committee", "مجلس": "council", "اتحاد": "union",
	"جمعية": "society", "جمعيت": "society", "جيش": "army", "قوات": "forces",
	"مكتب": "office", "شركة": "company", "شركت": "company", "كمپني": "company",
	"صرافة": "exchange", "صرافه": "exchange",
	// Words of listed groups' English names.
	"دولة": "state", "دوله": "state",
	"اسلامي": "islamic", "اسلامية": "islamic", "اسلاميه": "islamic", "اسلام": "islam",
	"جهاد": "jihad", "مسلحة": "armed", "مسلح": "armed",
	"مقاتلة": "combatant", "مقاتل": "combatant",
	"تحرير": "liberation", "مقاومة": "resistance", "مقاومه": "resistance",
	"اخوان": "brotherhood", "مسلمين": "muslim", "مسلمون": "muslim",
	"انصار": "supporters", "مهاجرين": "emigrants",
	"احياء": "revival", "تراث": "heritage", "خيرية": "charitable", "خيري": "charitable",
	"اغاثة": "relief",
	// Countries and regions.
	"عراق": "iraq", "شام": "levant", "ليبيا": "libya", "يمن": "yemen",
	"مصري": "egyptian", "مصر": "egypt", "تونسية": "tunisian", "تونسي": "tunisian",
	"سوريا": "syria", "فلسطين": "palestine", "فلسطيني": "palestinian", "فلسطينية": "palestinian",
	"لبنان": "lebanon", "افغانستان": "afghanistan", "باكستان": "pakistan",
	"صومال": "somalia", "اوزبكستان": "uzbekistan", "ازبكستان": "uzbekistan",
	"مغرب": "maghreb", "جزيرة": "peninsula", "عربية": "arabian", "سيناء": "sinai",
	// Function words.
	"في": "in", "من": "from", "و": "and", "او": "and",
}

// russianWords are Russian words read whole (short or uninflected ones).
var russianWords = map[string]string{
	"и": "and", "в": "in", "на": "on", "за": "for",
	"игил": "isil", "даиш": "daesh", "хамас": "hamas",
	"аш": "al", "ан": "al", "ас": "al", "ад": "al", "ар": "al", "ат": "al", "аз": "al",
}

// russianStems are stems of inflected Russian words: a word starting with
// one, leaving at most four letters of ending, reads as its English.
var russianStems = map[string]string{
	// Descriptors.
	"движени": "movement", "групп": "group", "организаци": "organization",
	"сет": "network", "фронт": "front", "парти": "party",
	"бригад": "brigade", "батальон": "battalion", "фонд": "foundation",
	"комитет": "committee", "совет": "council", "союз": "union",
	"обществ": "society", "арми": "army", "сил": "forces",
	"компани": "company", "бюро": "bureau",
	// Words of listed groups' English names.
	"государств": "state", "исламск": "islamic", "ислам": "islam",
	"джихад": "jihad", "вооруженн": "armed", "освобождени": "liberation",
	"сопротивлени": "resistance", "братья": "brotherhood", "братств": "brotherhood",
	"мусульман": "muslim", "тигр": "tigers", "революционн": "revolutionary",
	"народн": "people", "рабоч": "workers", "курдистан": "kurdistan",
	// Countries and regions.
	"ирак": "iraq", "леван": "levant", "сири": "syria", "ливи": "libya",
	"йемен": "yemen", "египет": "egypt", "египетск": "egyptian",
	"афганистан": "afghanistan", "пакистан": "pakistan", "узбекистан": "uzbekistan",
	"сомали": "somalia", "ливан": "lebanon", "палестин": "palestine",
}
