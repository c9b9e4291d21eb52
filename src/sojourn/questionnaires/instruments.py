"""The instruments Sojourn ships, free to use, as FHIR Questionnaires in English, German, French
and Japanese: WHO-5, PHQ-2, PHQ-9, GAD-7, a 0–10 itch rating, and Sojourn's psoriasis needs analysis.

WHO-5 is free to use (WHO Collaborating Centre in Mental Health); PHQ and GAD-7 need no permission
to reproduce, translate or distribute (developed by Drs Spitzer, Williams, Kroenke and colleagues
with an educational grant from Pfizer). Before clinical use in a market, check each translation
against the validated version for that language; licensed instruments are imported, not bundled.
"""

from __future__ import annotations

from typing import Any

from sojourn.questionnaires.authoring import (
    answer_options,
    choice_item,
    clinical_flag,
    questionnaire_resource,
    score_band,
    translations,
)
from sojourn.questionnaires.definition import MAX_VALUE, MIN_VALUE
from sojourn.questionnaires.needs_analysis import needs_analysis

# ---------------------------------------------------------------- WHO-5
WHO5_OPTIONS = {
    "en": ["All of the time", "Most of the time", "More than half of the time", "Less than half of the time",
           "Some of the time", "At no time"],
    "de": ["Die ganze Zeit", "Meistens", "Etwas mehr als die Hälfte der Zeit", "Etwas weniger als die Hälfte der Zeit",
           "Ab und zu", "Zu keinem Zeitpunkt"],
    "fr": ["Tout le temps", "La plupart du temps", "Plus de la moitié du temps", "Moins de la moitié du temps",
           "De temps en temps", "Jamais"],
    "ja": ["いつも", "ほとんどいつも", "半分以上の期間を", "半分以下の期間を", "ほんのたまに", "まったくない"],
}
WHO5_ITEMS = [
    {"en": "I have felt cheerful and in good spirits", "de": "… war ich froh und guter Laune",
     "fr": "Je me suis senti(e) bien et de bonne humeur", "ja": "明るく、楽しい気分で過ごした"},
    {"en": "I have felt calm and relaxed", "de": "… habe ich mich ruhig und entspannt gefühlt",
     "fr": "Je me suis senti(e) calme et tranquille", "ja": "落ち着いた、リラックスした気分で過ごした"},
    {"en": "I have felt active and vigorous", "de": "… habe ich mich energisch und aktiv gefühlt",
     "fr": "Je me suis senti(e) plein(e) d'énergie et vigoureux(se)", "ja": "意欲的で、活動的に過ごした"},
    {"en": "I woke up feeling fresh and rested", "de": "… habe ich mich beim Aufwachen frisch und ausgeruht gefühlt",
     "fr": "Je me suis réveillé(e) en me sentant frais/fraîche et dispos(e)", "ja": "ぐっすりと休め、気持ちよくめざめた"},
    {"en": "My daily life has been filled with things that interest me",
     "de": "… war mein Alltag voller Dinge, die mich interessieren",
     "fr": "Ma vie quotidienne a été remplie de choses intéressantes", "ja": "日常生活の中に、興味のあることがたくさんあった"},
]


def who5() -> dict[str, Any]:
    options = answer_options(WHO5_OPTIONS, [5, 4, 3, 2, 1, 0])
    items = [choice_item(f"who5-{n + 1}", texts, options) for n, texts in enumerate(WHO5_ITEMS)]
    link_ids = [i["linkId"] for i in items]
    # The manual's two scores: the raw sum (0–25) and the percentage (raw × 4). Bands name what the
    # WHO-5 literature names: ≤ 28 % likely depression; raw < 13 (≤ 50 %) poor well-being, a reason
    # to screen for depression.
    scoring = {"scales": [
        {"id": "wellbeing", "label": {"en": "Well-being (0–100)", "de": "Wohlbefinden (0–100)",
                                      "fr": "Bien-être (0–100)", "ja": "精神的健康状態(0〜100)"},
         "items": link_ids, "method": "sum", "multiplier": 4, "max_missing": 0,
         "bands": [
             score_band(0, 28, "likely_depression", "Likely depression", "Wahrscheinlich Depression",
                        "Dépression probable", "うつ病の可能性が高い"),
             score_band(29, 50, "poor", "Poor well-being: screen for depression",
                        "Geringes Wohlbefinden: auf Depression abklären", "Bien-être faible : dépister une dépression",
                        "精神的健康状態が低い:うつ病のスクリーニングを"),
             score_band(51, 100, "adequate", "No sign of poor well-being", "Kein Hinweis auf geringes Wohlbefinden",
                        "Pas de signe de bien-être faible", "精神的健康状態の低下なし"),
         ]},
        {"id": "raw", "label": {"en": "Raw score (0–25)", "de": "Rohwert (0–25)", "fr": "Score brut (0–25)",
                                "ja": "素点(0〜25)"},
         "items": link_ids, "method": "sum", "max_missing": 0}],
        "flags": [clinical_flag("who5_poor_wellbeing", [{"scale": "raw", "op": "<", "value": 13}],
                                "Poor well-being (WHO-5 raw score below 13)",
                                "Geringes Wohlbefinden (WHO-5-Rohwert unter 13)",
                                "Bien-être faible (score brut WHO-5 inférieur à 13)",
                                "精神的健康状態が低い(WHO-5 素点13未満)")]}
    return questionnaire_resource("who-5", {"en": "WHO-5 Well-Being Index", "de": "WHO-5-Fragebogen zum Wohlbefinden",
                                    "fr": "Indice de bien-être WHO-5", "ja": "WHO-5 精神的健康状態表"},
                          items, scoring,
                          intro={"en": "Over the last two weeks:", "de": "In den letzten zwei Wochen …",
                                 "fr": "Au cours des deux dernières semaines :", "ja": "最近2週間、私は…"},
                          copyright_text="© Psychiatric Research Unit, WHO Collaborating Centre in Mental Health. "
                                         "Free to use.")


# ---------------------------------------------------------------- PHQ-9, PHQ-2, GAD-7
PHQ_OPTIONS = {
    "en": ["Not at all", "Several days", "More than half the days", "Nearly every day"],
    "de": ["Überhaupt nicht", "An einzelnen Tagen", "An mehr als der Hälfte der Tage", "Beinahe jeden Tag"],
    "fr": ["Jamais", "Plusieurs jours", "Plus de la moitié du temps", "Presque tous les jours"],
    "ja": ["全くない", "数日", "半分以上", "ほとんど毎日"],
}
PHQ_INTRO = {
    "en": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    "de": "Wie oft fühlten Sie sich im Verlauf der letzten 2 Wochen durch die folgenden Beschwerden beeinträchtigt?",
    "fr": "Au cours des 2 dernières semaines, selon quelle fréquence avez-vous été gêné(e) par les problèmes "
          "suivants ?",
    "ja": "この2週間、次のような問題にどのくらい頻繁に悩まされていますか?",
}
PHQ9_ITEMS = [
    {"en": "Little interest or pleasure in doing things", "de": "Wenig Interesse oder Freude an Ihren Tätigkeiten",
     "fr": "Peu d'intérêt ou de plaisir à faire les choses", "ja": "物事に対してほとんど興味がない、または楽しめない"},
    {"en": "Feeling down, depressed, or hopeless", "de": "Niedergeschlagenheit, Schwermut oder Hoffnungslosigkeit",
     "fr": "Être triste, déprimé(e) ou désespéré(e)", "ja": "気分が落ち込む、憂うつになる、または絶望的な気持ちになる"},
    {"en": "Trouble falling or staying asleep, or sleeping too much",
     "de": "Schwierigkeiten ein- oder durchzuschlafen oder vermehrter Schlaf",
     "fr": "Difficultés à s'endormir ou à rester endormi(e), ou dormir trop",
     "ja": "寝付きが悪い、途中で目がさめる、または逆に眠り過ぎる"},
    {"en": "Feeling tired or having little energy", "de": "Müdigkeit oder Gefühl, keine Energie zu haben",
     "fr": "Se sentir fatigué(e) ou manquer d'énergie", "ja": "疲れた感じがする、または気力がない"},
    {"en": "Poor appetite or overeating", "de": "Verminderter Appetit oder übermäßiges Bedürfnis zu essen",
     "fr": "Avoir peu d'appétit ou manger trop", "ja": "あまり食欲がない、または食べ過ぎる"},
    {"en": "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
     "de": "Schlechte Meinung von sich selbst; Gefühl, ein Versager zu sein oder die Familie enttäuscht zu haben",
     "fr": "Avoir une mauvaise opinion de soi-même, ou le sentiment d'être nul(le), ou d'avoir déçu sa famille ou "
           "s'être déçu(e) soi-même",
     "ja": "自分はダメな人間だ、人生の敗北者だと気に病む、または自分自身あるいは家族に申し訳がないと感じる"},
    {"en": "Trouble concentrating on things, such as reading the newspaper or watching television",
     "de": "Schwierigkeiten, sich auf etwas zu konzentrieren, z. B. beim Zeitunglesen oder Fernsehen",
     "fr": "Avoir du mal à se concentrer, par exemple pour lire le journal ou regarder la télévision",
     "ja": "新聞を読む、またはテレビを見ることなどに集中することが難しい"},
    {"en": "Moving or speaking so slowly that other people could have noticed? Or the opposite — being so fidgety "
           "or restless that you have been moving around a lot more than usual",
     "de": "Waren Ihre Bewegungen oder Ihre Sprache so verlangsamt, dass es auch anderen auffallen würde? Oder waren "
           "Sie im Gegenteil „zappelig“ oder ruhelos und hatten dadurch einen stärkeren Bewegungsdrang als sonst?",
     "fr": "Bouger ou parler si lentement que les autres auraient pu le remarquer ? Ou au contraire, être si agité(e) "
           "que vous avez eu du mal à tenir en place par rapport à d'habitude",
     "ja": "他人が気づくぐらいに動きや話し方が遅くなる、あるいは反対に、そわそわしたり、落ちつかず、ふだんよりも動き回ることがある"},
    {"en": "Thoughts that you would be better off dead or of hurting yourself in some way",
     "de": "Gedanken, dass Sie lieber tot wären oder sich Leid zufügen möchten",
     "fr": "Penser qu'il vaudrait mieux mourir ou envisager de vous faire du mal d'une manière ou d'une autre",
     "ja": "死んだ方がましだ、あるいは自分を何らかの方法で傷つけようと思ったことがある"},
]
GAD7_ITEMS = [
    {"en": "Feeling nervous, anxious, or on edge", "de": "Nervosität, Ängstlichkeit oder Anspannung",
     "fr": "Un sentiment de nervosité, d'anxiété ou de tension", "ja": "緊張感、不安感または神経過敏を感じる"},
    {"en": "Not being able to stop or control worrying",
     "de": "Nicht in der Lage sein, Sorgen zu stoppen oder zu kontrollieren",
     "fr": "Une incapacité à arrêter de s'inquiéter ou à contrôler ses inquiétudes",
     "ja": "心配することを止められない、または心配をコントロールできない"},
    {"en": "Worrying too much about different things", "de": "Übermäßige Sorgen bezüglich verschiedener Angelegenheiten",
     "fr": "Une inquiétude excessive à propos de différentes choses", "ja": "いろいろなことを心配しすぎる"},
    {"en": "Trouble relaxing", "de": "Schwierigkeiten zu entspannen", "fr": "Des difficultés à se détendre",
     "ja": "くつろぐことが難しい"},
    {"en": "Being so restless that it is hard to sit still", "de": "Rastlosigkeit, so dass Stillsitzen schwerfällt",
     "fr": "Une agitation telle qu'il est difficile de tenir en place", "ja": "じっとしていることができないほど落ち着かない"},
    {"en": "Becoming easily annoyed or irritable", "de": "Schnelle Verärgerung oder Gereiztheit",
     "fr": "Une tendance à être facilement contrarié(e) ou irritable", "ja": "いらいらしがちであり、怒りっぽい"},
    {"en": "Feeling afraid, as if something awful might happen",
     "de": "Gefühl der Angst, so als würde etwas Schlimmes passieren",
     "fr": "Un sentiment de peur comme si quelque chose de terrible risquait de se produire",
     "ja": "何か恐ろしいことがおこるのではないかと恐れを感じる"},
]
# The published scoring rules' flags. Item 9 answered above "Not at all" asks for an assessment of
# suicide risk the same day: urgent, whatever the program's rules say.
SELF_HARM = clinical_flag("self_harm_thoughts", [{"item": "phq9-9", "op": ">=", "value": 1}],
                          "Thoughts of death or self-harm (PHQ-9 item 9)",
                          "Gedanken an den Tod oder Selbstverletzung (PHQ-9 Frage 9)",
                          "Pensées de mort ou d'automutilation (PHQ-9 question 9)",
                          "死や自傷についての考え(PHQ-9 項目9)", urgent=True)
PHQ2_POSITIVE = clinical_flag("phq2_positive", [{"scale": "phq2", "op": ">=", "value": 3}],
                              "Depression screen positive (PHQ-2 ≥ 3)", "Depressions-Screening auffällig (PHQ-2 ≥ 3)",
                              "Dépistage de la dépression positif (PHQ-2 ≥ 3)", "うつ病スクリーニング陽性(PHQ-2 ≥ 3)")
PHQ_COPYRIGHT = ("Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, Kurt Kroenke and colleagues, with an "
                 "educational grant from Pfizer Inc. No permission required to reproduce, translate, display or "
                 "distribute.")


def _phq_like(name: str, title: dict[str, str], prefix: str, texts: list[dict[str, str]],
              bands: list[dict[str, Any]], label: dict[str, str], flags: list[dict[str, Any]],
              subscales: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    options = answer_options(PHQ_OPTIONS, [0, 1, 2, 3])
    items = [choice_item(f"{prefix}-{n + 1}", t, options) for n, t in enumerate(texts)]
    scoring = {"scales": [{"id": "total", "label": label, "items": [i["linkId"] for i in items], "method": "sum",
                           "max_missing": 0, "bands": bands}, *subscales], "flags": flags}
    return questionnaire_resource(name, title, items, scoring, intro=PHQ_INTRO, copyright_text=PHQ_COPYRIGHT)


def phq9() -> dict[str, Any]:
    return _phq_like("phq-9", {"en": "Patient Health Questionnaire (PHQ-9)", "de": "Gesundheitsfragebogen (PHQ-9)",
                               "fr": "Questionnaire sur la santé du patient (PHQ-9)", "ja": "こころとからだの質問票(PHQ-9)"},
                     "phq9", PHQ9_ITEMS, [
                         score_band(0, 4, "minimal", "Minimal", "Minimal", "Minimale", "なし〜ごく軽度"),
                         score_band(5, 9, "mild", "Mild", "Leicht", "Légère", "軽度"),
                         score_band(10, 14, "moderate", "Moderate", "Mittelgradig", "Modérée", "中等度"),
                         score_band(15, 19, "moderately_severe", "Moderately severe", "Ausgeprägt", "Modérément sévère",
                               "中等度〜重度"),
                         score_band(20, 27, "severe", "Severe", "Schwer", "Sévère", "重度")],
                     {"en": "Depression severity", "de": "Schweregrad der Depressivität",
                      "fr": "Sévérité de la dépression", "ja": "抑うつの重症度"},
                     [SELF_HARM,
                      clinical_flag("phq9_positive", [{"scale": "total", "op": ">=", "value": 10}],
                                    "Depression screen positive (PHQ-9 ≥ 10)",
                                    "Depressions-Screening auffällig (PHQ-9 ≥ 10)",
                                    "Dépistage de la dépression positif (PHQ-9 ≥ 10)", "うつ病スクリーニング陽性(PHQ-9 ≥ 10)"),
                      PHQ2_POSITIVE],
                     # PHQ-2 is PHQ-9's first two items: scored inside every PHQ-9 too.
                     ({"id": "phq2", "label": {"en": "PHQ-2 (items 1 and 2)", "de": "PHQ-2 (Fragen 1 und 2)",
                                               "fr": "PHQ-2 (questions 1 et 2)", "ja": "PHQ-2(項目1と2)"},
                       "items": ["phq9-1", "phq9-2"], "method": "sum", "max_missing": 0},))


def phq2() -> dict[str, Any]:
    return _phq_like("phq-2", {"en": "Patient Health Questionnaire (PHQ-2)", "de": "Gesundheitsfragebogen (PHQ-2)",
                               "fr": "Questionnaire sur la santé du patient (PHQ-2)", "ja": "こころとからだの質問票(PHQ-2)"},
                     "phq2", PHQ9_ITEMS[:2], [
                         score_band(0, 2, "negative", "Negative screen", "Unauffällig", "Dépistage négatif", "陰性"),
                         score_band(3, 6, "positive", "Positive screen: follow up with PHQ-9",
                               "Auffällig: PHQ-9 anschließen", "Dépistage positif : compléter par le PHQ-9",
                               "陽性:PHQ-9で確認を")],
                     {"en": "Depression screen", "de": "Depressions-Screening", "fr": "Dépistage de la dépression",
                      "ja": "うつ病スクリーニング"},
                     [{**PHQ2_POSITIVE, "when": [{"scale": "total", "op": ">=", "value": 3}]}])


def gad7() -> dict[str, Any]:
    return _phq_like("gad-7", {"en": "Generalized Anxiety Disorder scale (GAD-7)",
                               "de": "Fragebogen zur generalisierten Angststörung (GAD-7)",
                               "fr": "Échelle du trouble anxieux généralisé (GAD-7)", "ja": "全般性不安障害尺度(GAD-7)"},
                     "gad7", GAD7_ITEMS, [
                         score_band(0, 4, "minimal", "Minimal", "Minimal", "Minimale", "なし〜ごく軽度"),
                         score_band(5, 9, "mild", "Mild", "Leicht", "Légère", "軽度"),
                         score_band(10, 14, "moderate", "Moderate", "Mittelgradig", "Modérée", "中等度"),
                         score_band(15, 21, "severe", "Severe", "Schwer", "Sévère", "重度")],
                     {"en": "Anxiety severity", "de": "Schweregrad der Angst", "fr": "Sévérité de l'anxiété",
                      "ja": "不安の重症度"},
                     [clinical_flag("gad7_positive", [{"scale": "total", "op": ">=", "value": 10}],
                                    "Anxiety screen positive (GAD-7 ≥ 10)", "Angst-Screening auffällig (GAD-7 ≥ 10)",
                                    "Dépistage de l'anxiété positif (GAD-7 ≥ 10)", "不安スクリーニング陽性(GAD-7 ≥ 10)")])


# ---------------------------------------------------------------- itch rating
def itch_nrs() -> dict[str, Any]:
    text = {"en": "On a scale from 0 (no itch) to 10 (worst imaginable itch), how bad was your itch at its worst "
                  "in the last 24 hours?",
            "de": "Wie stark war Ihr Juckreiz in den letzten 24 Stunden in seiner schlimmsten Ausprägung, auf einer "
                  "Skala von 0 (kein Juckreiz) bis 10 (schlimmster vorstellbarer Juckreiz)?",
            "fr": "Sur une échelle de 0 (aucune démangeaison) à 10 (pire démangeaison imaginable), quelle a été "
                  "l'intensité maximale de vos démangeaisons au cours des dernières 24 heures ?",
            "ja": "過去24時間で最もひどかったときのかゆみは、0(かゆみなし)から10(想像しうる最悪のかゆみ)のうちどのくらいでしたか?"}
    item = {"linkId": "itch-worst-24h", "text": text["en"], "_text": translations(text), "type": "integer",
            "required": True,
            "extension": [{"url": MIN_VALUE, "valueInteger": 0}, {"url": MAX_VALUE, "valueInteger": 10}]}
    scoring = {"scales": [{"id": "itch", "label": {"en": "Worst itch (0–10)", "de": "Stärkster Juckreiz (0–10)",
                                                   "fr": "Démangeaison maximale (0–10)", "ja": "最大のかゆみ(0〜10)"},
                           "items": ["itch-worst-24h"], "method": "sum", "max_missing": 0, "bands": [
                               score_band(0, 0, "none", "No itch", "Kein Juckreiz", "Aucune", "なし"),
                               score_band(1, 3, "mild", "Mild", "Leicht", "Légère", "軽度"),
                               score_band(4, 6, "moderate", "Moderate", "Mittel", "Modérée", "中等度"),
                               score_band(7, 8, "severe", "Severe", "Stark", "Sévère", "重度"),
                               score_band(9, 10, "very_severe", "Very severe", "Sehr stark", "Très sévère", "最重度")]}]}
    return questionnaire_resource("itch-nrs", {"en": "Itch rating (0–10)", "de": "Juckreiz-Skala (0–10)",
                                       "fr": "Échelle de démangeaison (0–10)", "ja": "かゆみの評価(0〜10)"},
                          [item], scoring)


INSTRUMENTS = {"who-5": who5, "phq-2": phq2, "phq-9": phq9, "gad-7": gad7, "itch-nrs": itch_nrs}


def shipped() -> dict[str, dict[str, Any]]:
    """Every instrument Sojourn ships, by name, as FHIR JSON."""
    return {**{name: build() for name, build in INSTRUMENTS.items()}, "psoriasis-needs": needs_analysis()}
