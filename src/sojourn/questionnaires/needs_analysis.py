"""Sojourn's psoriasis needs analysis: twelve scored questions, each mapped onto one of the program's
needs (a subscale per need, 0–3, mean of its items), plus the treatment in use, which decides whether
the injection question is asked, and a free-text wish."""

from __future__ import annotations

from typing import Any

from sojourn.questionnaires.authoring import (
    answer_options,
    choice_item,
    questionnaire_resource,
    score_band,
    translations,
)

FREQUENCY = {"en": ["Never", "Sometimes", "Often", "All the time"],
             "de": ["Nie", "Manchmal", "Oft", "Ständig"],
             "fr": ["Jamais", "Parfois", "Souvent", "Tout le temps"],
             "ja": ["まったくない", "ときどき", "よくある", "いつも"]}
CONFIDENCE = {"en": ["Very confident", "Quite confident", "A little confident", "Not confident at all"],
              "de": ["Sehr sicher", "Ziemlich sicher", "Etwas sicher", "Gar nicht sicher"],
              "fr": ["Très confiant(e)", "Assez confiant(e)", "Un peu confiant(e)", "Pas du tout confiant(e)"],
              "ja": ["とても自信がある", "まあ自信がある", "少し自信がある", "まったく自信がない"]}
UNDERSTANDING = {"en": ["Very well", "Quite well", "A little", "Not at all"],
                 "de": ["Sehr gut", "Ziemlich gut", "Ein wenig", "Gar nicht"],
                 "fr": ["Très bien", "Assez bien", "Un peu", "Pas du tout"],
                 "ja": ["よく理解している", "まあ理解している", "少し理解している", "まったく理解していない"]}
WORRY = {"en": ["Not at all", "A little", "Quite a lot", "Very much"],
         "de": ["Gar nicht", "Ein wenig", "Ziemlich", "Sehr"],
         "fr": ["Pas du tout", "Un peu", "Assez", "Beaucoup"],
         "ja": ["まったくない", "少し", "かなり", "とても"]}
EASE = {"en": ["Very easy", "Quite easy", "Quite hard", "Very hard"],
        "de": ["Sehr leicht", "Eher leicht", "Eher schwer", "Sehr schwer"],
        "fr": ["Très facile", "Plutôt facile", "Plutôt difficile", "Très difficile"],
        "ja": ["とても簡単", "まあ簡単", "やや難しい", "とても難しい"]}
WISH = {"en": ["No", "Maybe later", "Yes, a little", "Yes, a lot"],
        "de": ["Nein", "Vielleicht später", "Ja, ein wenig", "Ja, sehr"],
        "fr": ["Non", "Peut-être plus tard", "Oui, un peu", "Oui, beaucoup"],
        "ja": ["いいえ", "いずれ", "はい、少し", "はい、とても"]}
TREATMENTS = {"en": ["Creams or ointments", "Tablets", "Injections", "Light therapy", "No treatment at the moment"],
              "de": ["Cremes oder Salben", "Tabletten", "Spritzen", "Lichttherapie", "Zurzeit keine Behandlung"],
              "fr": ["Crèmes ou pommades", "Comprimés", "Injections", "Photothérapie", "Aucun traitement actuellement"],
              "ja": ["塗り薬", "飲み薬", "注射", "光線療法", "現在治療していない"]}

# (linkId, need, answer scale, question in en/de/fr/ja)
QUESTIONS: list[tuple[str, str, dict[str, list[str]], dict[str, str]]] = [
    ("na-itch", "itch", FREQUENCY, {
        "en": "How often does itching bother you?", "de": "Wie oft stört Sie Juckreiz?",
        "fr": "À quelle fréquence les démangeaisons vous gênent-elles ?", "ja": "かゆみにどのくらい悩まされていますか?"}),
    ("na-sleep", "sleep", FREQUENCY, {
        "en": "How often does your psoriasis disturb your sleep?", "de": "Wie oft stört die Psoriasis Ihren Schlaf?",
        "fr": "À quelle fréquence votre psoriasis perturbe-t-il votre sommeil ?",
        "ja": "乾癬のせいで眠れないことはどのくらいありますか?"}),
    ("na-flares", "flare_management", CONFIDENCE, {
        "en": "How confident are you that you can manage a flare-up?",
        "de": "Wie sicher fühlen Sie sich, einen Schub selbst in den Griff zu bekommen?",
        "fr": "Dans quelle mesure vous sentez-vous capable de gérer une poussée ?",
        "ja": "症状が悪化したときに、自分で対処できる自信はどのくらいありますか?"}),
    ("na-knowledge", "treatment_knowledge", UNDERSTANDING, {
        "en": "How well do you understand how your treatment works?",
        "de": "Wie gut verstehen Sie, wie Ihre Behandlung wirkt?",
        "fr": "Comprenez-vous comment votre traitement agit ?",
        "ja": "ご自身の治療がどのように効くのか、どのくらい理解していますか?"}),
    ("na-side-effects", "side_effects", WORRY, {
        "en": "How much do you worry about side effects of your treatment?",
        "de": "Wie sehr sorgen Sie sich um Nebenwirkungen Ihrer Behandlung?",
        "fr": "À quel point vous inquiétez-vous des effets indésirables de votre traitement ?",
        "ja": "治療の副作用がどのくらい心配ですか?"}),
    ("na-injection", "injection_confidence", CONFIDENCE, {
        "en": "How confident do you feel giving yourself your injection?",
        "de": "Wie sicher fühlen Sie sich, sich Ihre Spritze selbst zu geben?",
        "fr": "Dans quelle mesure vous sentez-vous à l'aise pour vous faire vous-même votre injection ?",
        "ja": "自分で注射をすることに、どのくらい自信がありますか?"}),
    ("na-routine", "adherence", FREQUENCY, {
        "en": "How often do you forget or skip your treatment?",
        "de": "Wie oft vergessen oder überspringen Sie Ihre Behandlung?",
        "fr": "À quelle fréquence oubliez-vous ou sautez-vous votre traitement ?",
        "ja": "治療を忘れたり、飛ばしたりすることはどのくらいありますか?"}),
    ("na-mood", "psychosocial", FREQUENCY, {
        "en": "In the last month, how often has your psoriasis weighed on your mood?",
        "de": "Wie oft hat Ihre Psoriasis im letzten Monat Ihre Stimmung belastet?",
        "fr": "Au cours du dernier mois, à quelle fréquence votre psoriasis a-t-il pesé sur votre moral ?",
        "ja": "この1か月、乾癬のせいで気分が沈むことはどのくらいありましたか?"}),
    ("na-visible", "psychosocial", FREQUENCY, {
        "en": "How often do you feel uncomfortable about how your skin looks to others?",
        "de": "Wie oft ist es Ihnen unangenehm, wie andere Ihre Haut sehen?",
        "fr": "À quelle fréquence vous sentez-vous mal à l'aise quant à l'aspect de votre peau aux yeux des autres ?",
        "ja": "他人から肌がどう見えるかが気になることはどのくらいありますか?"}),
    ("na-doctor", "doctor_dialogue", EASE, {
        "en": "How easy is it to talk to your doctor about what matters to you?",
        "de": "Wie leicht fällt es Ihnen, mit Ihrer Ärztin oder Ihrem Arzt über das zu sprechen, was Ihnen wichtig ist?",
        "fr": "Est-il facile de parler à votre médecin de ce qui compte pour vous ?",
        "ja": "大切なことを主治医に話すのはどのくらい簡単ですか?"}),
    ("na-lifestyle", "lifestyle", WISH, {
        "en": "Would you like support with diet, exercise, alcohol or smoking?",
        "de": "Wünschen Sie sich Unterstützung bei Ernährung, Bewegung, Alkohol oder Rauchen?",
        "fr": "Souhaitez-vous un soutien pour l'alimentation, l'activité physique, l'alcool ou le tabac ?",
        "ja": "食事、運動、飲酒、喫煙についてサポートを希望しますか?"}),
    ("na-practical", "practical_access", FREQUENCY, {
        "en": "How often do costs, travel or time make it hard to get your treatment?",
        "de": "Wie oft erschweren Kosten, Wege oder Zeit es Ihnen, Ihre Behandlung zu bekommen?",
        "fr": "À quelle fréquence le coût, les déplacements ou le temps rendent-ils difficile l'accès à votre "
              "traitement ?",
        "ja": "費用、通院、時間のために治療を受けにくいことはどのくらいありますか?"}),
]
NEEDS = {
    "itch": {"en": "Itch", "de": "Juckreiz", "fr": "Démangeaisons", "ja": "かゆみ"},
    "sleep": {"en": "Sleep", "de": "Schlaf", "fr": "Sommeil", "ja": "睡眠"},
    "flare_management": {"en": "Managing flares", "de": "Umgang mit Schüben", "fr": "Gestion des poussées",
                         "ja": "悪化時の対処"},
    "treatment_knowledge": {"en": "Understanding treatment", "de": "Behandlung verstehen",
                            "fr": "Comprendre le traitement", "ja": "治療の理解"},
    "side_effects": {"en": "Side-effect worries", "de": "Sorgen um Nebenwirkungen",
                     "fr": "Inquiétudes sur les effets indésirables", "ja": "副作用への不安"},
    "injection_confidence": {"en": "Confidence with injections", "de": "Sicherheit beim Spritzen",
                             "fr": "Aisance avec les injections", "ja": "自己注射への自信"},
    "adherence": {"en": "Keeping to treatment", "de": "Therapietreue", "fr": "Suivi du traitement",
                  "ja": "治療の継続"},
    "psychosocial": {"en": "Emotional well-being", "de": "Seelisches Wohlbefinden", "fr": "Bien-être émotionnel",
                     "ja": "心の健康"},
    "doctor_dialogue": {"en": "Talking with the doctor", "de": "Gespräch mit der Ärztin oder dem Arzt",
                        "fr": "Dialogue avec le médecin", "ja": "医師との対話"},
    "lifestyle": {"en": "Healthy lifestyle", "de": "Gesunder Lebensstil", "fr": "Mode de vie sain",
                  "ja": "健康的な生活習慣"},
    "practical_access": {"en": "Practical access to care", "de": "Praktischer Zugang zur Versorgung",
                         "fr": "Accès pratique aux soins", "ja": "受診・治療の利便性"},
}


def needs_analysis() -> dict[str, Any]:
    treatment = {"linkId": "na-treatment", "type": "choice", "required": True, "repeats": True,
                 "text": "Which treatments do you use now?", "_text": translations({
                     "de": "Welche Behandlungen nutzen Sie zurzeit?",
                     "fr": "Quels traitements utilisez-vous actuellement ?", "ja": "現在、どの治療を受けていますか?"}),
                 "answerOption": [{"valueCoding": {"system": "urn:sojourn:treatment", "code": code,
                                                   "display": TREATMENTS["en"][n],
                                                   "_display": translations({lang: TREATMENTS[lang][n]
                                                                            for lang in ("de", "fr", "ja")})}}
                                  for n, code in enumerate(("topical", "oral", "injection", "phototherapy", "none"))]}
    scored = []
    for link_id, _need, answers, texts in QUESTIONS:
        extra: dict[str, Any] = {}
        if link_id == "na-injection":
            extra = {"enableWhen": [{"question": "na-treatment", "operator": "=",
                                     "answerCoding": {"system": "urn:sojourn:treatment", "code": "injection"}}]}
        scored.append(choice_item(link_id, texts, answer_options(answers, [0, 1, 2, 3]), **extra))
    wish = {"linkId": "na-wish", "type": "text", "required": False, "maxLength": 1000,
            "text": "Is there anything else you would like support with?", "_text": translations({
                "de": "Gibt es noch etwas, wobei Sie sich Unterstützung wünschen?",
                "fr": "Y a-t-il autre chose pour laquelle vous souhaiteriez du soutien ?",
                "ja": "ほかにサポートを希望することはありますか?"})}
    scales = []
    for need, labels in NEEDS.items():
        members = [q[0] for q in QUESTIONS if q[1] == need]
        scales.append({"id": need, "label": labels, "items": members, "method": "mean", "max_missing": 0,
                       "need": need, "bands": [
                           score_band(0, 0.99, "low", "Low need", "Geringer Bedarf", "Besoin faible", "低い"),
                           score_band(1, 1.99, "medium", "Some need", "Mittlerer Bedarf", "Besoin modéré", "中程度"),
                           score_band(2, 3, "high", "High need", "Hoher Bedarf", "Besoin élevé", "高い")]})
    return questionnaire_resource("psoriasis-needs", {
        "en": "Your needs: living with psoriasis", "de": "Ihr Bedarf: Leben mit Psoriasis",
        "fr": "Vos besoins : vivre avec le psoriasis", "ja": "乾癬とともに暮らすあなたのニーズ"},
        [treatment, *scored, wish], {"scales": scales},
        intro={"en": "A few questions so that the program can support you where it matters to you. There are no "
                     "right or wrong answers.",
               "de": "Ein paar Fragen, damit das Programm Sie dort unterstützen kann, wo es Ihnen wichtig ist. Es "
                     "gibt keine richtigen oder falschen Antworten.",
               "fr": "Quelques questions pour que le programme vous accompagne là où cela compte pour vous. Il n'y a "
                     "pas de bonnes ou de mauvaises réponses.",
               "ja": "大切なところでプログラムがサポートできるよう、いくつか質問します。正解や不正解はありません。"})
