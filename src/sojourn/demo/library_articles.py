"""The demo library's reading: an article for each need of the needs analysis and the checklists and
videos patients keep coming back to. Written for people with plaque psoriasis, in plain words; the
three English markets share one English text."""

from __future__ import annotations

from sojourn.demo.library_item import Item

ARTICLES = [
    Item("itch-relief", "article", needs=["itch"], stages=["diagnosis", "daily_management"],
         title={"en": "Calming the itch", "de": "Den Juckreiz beruhigen", "fr": "Apaiser les démangeaisons",
                "ja": "かゆみを和らげる"},
         summary={"en": "Why psoriasis itches and what helps between doctor visits.",
                  "de": "Warum Psoriasis juckt und was zwischen den Arztbesuchen hilft.",
                  "fr": "Pourquoi le psoriasis démange et ce qui aide entre deux rendez-vous.",
                  "ja": "乾癬がかゆくなる理由と、受診の合間にできること。"},
         body={"en": "Itch is the symptom most people with psoriasis say bothers them most.\n\n"
                     "Cool the skin with a damp cloth, keep nails short and moisturise straight after a "
                     "lukewarm shower. If the itch keeps you from sleeping, tell your dermatologist.",
               "de": "Juckreiz ist das Symptom, das Menschen mit Psoriasis am meisten belastet.\n\n"
                     "Kühlen Sie die Haut mit einem feuchten Tuch, halten Sie die Nägel kurz und cremen Sie "
                     "sich direkt nach einer lauwarmen Dusche ein. Wenn Sie wegen des Juckreizes nicht "
                     "schlafen können, sagen Sie es Ihrer Hautärztin oder Ihrem Hautarzt.",
               "fr": "Les démangeaisons sont le symptôme qui gêne le plus les personnes atteintes de psoriasis.\n\n"
                     "Rafraîchissez la peau avec un linge humide, gardez les ongles courts et hydratez-vous "
                     "juste après une douche tiède. Si cela vous empêche de dormir, parlez-en à votre "
                     "dermatologue.",
               "ja": "かゆみは、乾癬のある方が最もつらいと感じる症状です。\n\n"
                     "湿らせたタオルで肌を冷やし、爪を短く保ち、ぬるめのシャワーの直後に保湿しましょう。"
                     "かゆみで眠れないときは、皮膚科医に伝えてください。"}),
    Item("sleep-and-skin", "article", needs=["sleep"], stages=["daily_management"],
         title={"en": "Sleeping well with psoriasis", "de": "Gut schlafen mit Psoriasis",
                "fr": "Bien dormir avec le psoriasis", "ja": "乾癬とよい睡眠"},
         summary={"en": "Small changes to the evening that help skin and sleep.",
                  "de": "Kleine Änderungen am Abend, die Haut und Schlaf guttun.",
                  "fr": "De petits changements le soir, bons pour la peau et le sommeil.",
                  "ja": "肌と睡眠のための、夜の小さな工夫。"},
         body={"en": "Itch is often worse at night, when the skin warms up.\n\n"
                     "Keep the bedroom cool, wear cotton, and apply your cream an hour before bed so it "
                     "has soaked in. A regular bedtime helps more than a long lie-in.",
               "de": "Juckreiz ist nachts oft stärker, wenn die Haut warm wird.\n\n"
                     "Halten Sie das Schlafzimmer kühl, tragen Sie Baumwolle und cremen Sie sich eine Stunde "
                     "vor dem Schlafengehen ein. Eine feste Schlafenszeit hilft mehr als langes Ausschlafen.",
               "fr": "Les démangeaisons sont souvent plus fortes la nuit, quand la peau se réchauffe.\n\n"
                     "Gardez la chambre fraîche, portez du coton et appliquez votre crème une heure avant le "
                     "coucher. Un horaire régulier aide plus qu'une grasse matinée.",
               "ja": "肌が温まる夜は、かゆみが強くなりがちです。\n\n"
                     "寝室を涼しく保ち、綿の服を着て、寝る1時間前に塗り薬を塗りましょう。"
                     "朝寝坊より、毎日同じ時間に寝るほうが効果的です。"}),
    Item("flare-plan", "article", needs=["flare_management"], stages=["daily_management", "switching"],
         title={"en": "Your flare plan", "de": "Ihr Plan für den Schub", "fr": "Votre plan en cas de poussée",
                "ja": "悪化したときのプラン"},
         summary={"en": "Spot a flare early and know what to do first.",
                  "de": "Einen Schub früh erkennen und wissen, was zuerst zu tun ist.",
                  "fr": "Repérer tôt une poussée et savoir quoi faire en premier.",
                  "ja": "悪化のサインに早く気づき、最初にすることを知っておく。"},
         body={"en": "Stress, infections, dry winter air and some medicines can trigger a flare.\n\n"
                     "Write down when it started and what changed, keep using your treatment, and call your "
                     "dermatologist's practice if plaques spread quickly or you feel unwell.",
               "de": "Stress, Infekte, trockene Winterluft und manche Medikamente können einen Schub "
                     "auslösen.\n\nNotieren Sie, wann er begann und was sich geändert hat, setzen Sie Ihre "
                     "Therapie fort und rufen Sie in der Praxis an, wenn sich die Plaques schnell ausbreiten "
                     "oder Sie sich krank fühlen.",
               "fr": "Le stress, les infections, l'air sec de l'hiver et certains médicaments peuvent "
                     "déclencher une poussée.\n\nNotez quand elle a commencé et ce qui a changé, continuez "
                     "votre traitement et appelez le cabinet si les plaques s'étendent vite ou si vous vous "
                     "sentez mal.",
               "ja": "ストレス、感染症、冬の乾燥、一部の薬が悪化のきっかけになります。\n\n"
                     "始まった日と変わったことを記録し、治療は続けてください。"
                     "皮疹が急に広がったり体調が悪いときは、クリニックに連絡しましょう。"}),
    Item("how-treatment-works", "article", needs=["treatment_knowledge"],
         stages=["diagnosis", "treatment_initiation"],
         title={"en": "How your treatment works", "de": "So wirkt Ihre Therapie",
                "fr": "Comment agit votre traitement", "ja": "治療のしくみ"},
         summary={"en": "What the medicine does in the body, and when to expect a change.",
                  "de": "Was das Medikament im Körper bewirkt und wann Sie eine Änderung erwarten können.",
                  "fr": "Ce que fait le médicament dans le corps et quand attendre un changement.",
                  "ja": "薬が体の中で何をするのか、いつ変化が見えるのか。"},
         body={"en": "Psoriasis is driven by the immune system. Modern treatments calm the signals that make "
                     "skin cells grow too fast.\n\nMost people see a clear change after 8 to 16 weeks. "
                     "Keep going even when the skin looks better: that is the treatment working.",
               "de": "Psoriasis wird vom Immunsystem angetrieben. Moderne Therapien dämpfen die Signale, "
                     "durch die Hautzellen zu schnell wachsen.\n\nDie meisten sehen nach 8 bis 16 Wochen eine "
                     "deutliche Änderung. Machen Sie weiter, auch wenn die Haut besser aussieht: Das ist die "
                     "Wirkung der Therapie.",
               "fr": "Le psoriasis est entretenu par le système immunitaire. Les traitements modernes "
                     "calment les signaux qui font pousser trop vite les cellules de la peau.\n\nLa plupart "
                     "des personnes voient un changement net après 8 à 16 semaines. Continuez même quand la "
                     "peau va mieux : c'est le traitement qui agit.",
               "ja": "乾癬は免疫の働きによって起こります。新しい治療は、皮膚の細胞が増えすぎる信号を"
                     "抑えます。\n\n多くの方は8〜16週間で、はっきりした変化を感じます。"
                     "肌がよくなっても続けましょう。それが治療の効果です。"}),
    Item("side-effects-what-to-watch", "article", needs=["side_effects"],
         stages=["treatment_initiation", "switching"],
         title={"en": "Side effects: what to watch for", "de": "Nebenwirkungen: worauf Sie achten sollten",
                "fr": "Effets indésirables : ce qu'il faut surveiller", "ja": "副作用：気をつけること"},
         summary={"en": "Common, harmless reactions and the signs that need a doctor.",
                  "de": "Häufige, harmlose Reaktionen und die Zeichen, die zum Arzt gehören.",
                  "fr": "Les réactions fréquentes et sans gravité, et les signes qui demandent un médecin.",
                  "ja": "よくある軽い反応と、医師に相談すべきサイン。"},
         body={"en": "Redness where you injected, a cold or a headache in the first weeks are common.\n\n"
                     "Fever, a spreading rash, breathlessness or anything that worries you: call your doctor. "
                     "You can also tell our nurses; they pass every suspected side effect to drug safety.",
               "de": "Rötung an der Einstichstelle, eine Erkältung oder Kopfschmerzen in den ersten Wochen "
                     "sind häufig.\n\nFieber, ein sich ausbreitender Ausschlag, Atemnot oder alles, was Sie "
                     "beunruhigt: Rufen Sie Ihre Ärztin oder Ihren Arzt an. Sie können es auch unseren "
                     "Pflegekräften sagen; sie melden jeden Verdacht an die Arzneimittelsicherheit.",
               "fr": "Une rougeur au point d'injection, un rhume ou un mal de tête les premières semaines "
                     "sont fréquents.\n\nFièvre, éruption qui s'étend, essoufflement ou tout ce qui vous "
                     "inquiète : appelez votre médecin. Vous pouvez aussi le dire à nos infirmières, qui "
                     "transmettent chaque effet suspecté à la pharmacovigilance.",
               "ja": "注射部位の赤み、かぜ、頭痛は最初の数週間によく見られます。\n\n"
                     "発熱、広がる発疹、息苦しさ、気になることがあれば医師に連絡してください。"
                     "看護師に伝えていただければ、副作用の疑いはすべて安全性部門に報告します。"}),
    Item("injection-step-by-step", "article", needs=["injection_confidence"], stages=["treatment_initiation"],
         title={"en": "Your injection, step by step", "de": "Ihre Spritze Schritt für Schritt",
                "fr": "Votre injection, étape par étape", "ja": "自己注射の手順"},
         summary={"en": "Calm, practical steps for the first injections at home.",
                  "de": "Ruhige, praktische Schritte für die ersten Spritzen zu Hause.",
                  "fr": "Des étapes simples et rassurantes pour les premières injections à la maison.",
                  "ja": "自宅での最初の注射を落ち着いて行うための手順。"},
         body={"en": "Take the pen out of the fridge 30 minutes before. Wash your hands, choose a spot on "
                     "the thigh or belly away from plaques, and clean it.\n\nPress the pen firmly, wait for "
                     "the second click and count to ten. Change the spot each time.",
               "de": "Nehmen Sie den Pen 30 Minuten vorher aus dem Kühlschrank. Waschen Sie die Hände, "
                     "wählen Sie eine Stelle an Oberschenkel oder Bauch ohne Plaques und reinigen Sie sie.\n\n"
                     "Drücken Sie den Pen fest auf, warten Sie auf das zweite Klicken und zählen Sie bis "
                     "zehn. Wechseln Sie jedes Mal die Stelle.",
               "fr": "Sortez le stylo du réfrigérateur 30 minutes avant. Lavez-vous les mains, choisissez "
                     "un endroit de la cuisse ou du ventre sans plaques et nettoyez-le.\n\nAppuyez "
                     "fermement, attendez le deuxième clic et comptez jusqu'à dix. Changez d'endroit à "
                     "chaque fois.",
               "ja": "注射の30分前にペンを冷蔵庫から出します。手を洗い、皮疹のない太ももかお腹の場所を選んで"
                     "消毒します。\n\nペンをしっかり押し当て、2回目のカチッという音のあと10数えます。"
                     "毎回場所を変えましょう。"}),
    Item("staying-on-track", "article", needs=["adherence"], stages=["treatment_initiation", "daily_management"],
         title={"en": "Staying on track with treatment", "de": "Bei der Therapie dranbleiben",
                "fr": "Garder le cap avec son traitement", "ja": "治療を続けるコツ"},
         summary={"en": "Routines that make doses easy to remember.",
                  "de": "Routinen, mit denen man keine Dosis vergisst.",
                  "fr": "Des habitudes pour ne pas oublier une dose.",
                  "ja": "飲み忘れ・打ち忘れを防ぐ習慣。"},
         body={"en": "Tie your dose to something you already do every day or week, such as breakfast or "
                     "Sunday evening.\n\nOrder your refill when one pack is left. If you missed a dose, "
                     "check the leaflet or ask us; do not take two at once.",
               "de": "Verbinden Sie Ihre Dosis mit etwas, das Sie ohnehin täglich oder wöchentlich tun, "
                     "etwa dem Frühstück oder dem Sonntagabend.\n\nHolen Sie das neue Rezept, wenn noch eine "
                     "Packung übrig ist. Wenn Sie eine Dosis vergessen haben, lesen Sie die Packungsbeilage "
                     "oder fragen Sie uns; nehmen Sie nicht zwei auf einmal.",
               "fr": "Associez votre dose à un geste quotidien ou hebdomadaire, comme le petit-déjeuner ou "
                     "le dimanche soir.\n\nRenouvelez votre ordonnance quand il reste une boîte. Si vous "
                     "avez oublié une dose, lisez la notice ou demandez-nous ; n'en prenez pas deux à la fois.",
               "ja": "朝食や日曜の夜など、毎日・毎週していることと結びつけましょう。\n\n"
                     "残りが1箱になったら処方を受けましょう。飲み忘れたときは説明書を確認するか、"
                     "私たちにご相談ください。2回分を一度に使わないでください。"}),
    Item("living-with-psoriasis", "article", needs=["psychosocial"],
         stages=["diagnosis", "daily_management", "switching"],
         title={"en": "Psoriasis and how you feel", "de": "Psoriasis und wie es Ihnen geht",
                "fr": "Le psoriasis et votre moral", "ja": "乾癬と気持ち"},
         summary={"en": "You are not alone: many people feel low or self-conscious at times.",
                  "de": "Sie sind nicht allein: Viele fühlen sich zeitweise niedergeschlagen oder gehemmt.",
                  "fr": "Vous n'êtes pas seul(e) : beaucoup se sentent parfois abattus ou gênés.",
                  "ja": "ひとりではありません。落ち込んだり人目が気になるのは、よくあることです。"},
         body={"en": "Psoriasis is visible, and that can weigh on you at work, with friends and in "
                     "relationships.\n\nTalking helps: to someone close, to a patient group, or to our nurse. "
                     "If you feel hopeless for more than two weeks, please speak to your doctor.",
               "de": "Psoriasis ist sichtbar, und das kann im Beruf, im Freundeskreis und in Beziehungen "
                     "belasten.\n\nReden hilft: mit vertrauten Menschen, einer Selbsthilfegruppe oder unserer "
                     "Pflegekraft. Wenn Sie sich länger als zwei Wochen hoffnungslos fühlen, sprechen Sie "
                     "bitte mit Ihrer Ärztin oder Ihrem Arzt.",
               "fr": "Le psoriasis se voit, et cela peut peser au travail, entre amis et dans le couple.\n\n"
                     "En parler aide : à un proche, à une association de patients ou à notre infirmière. "
                     "Si vous vous sentez sans espoir depuis plus de deux semaines, parlez-en à votre médecin.",
               "ja": "乾癬は目に見えるため、仕事や友人関係、パートナーとの関係で負担になることがあります。\n\n"
                     "話すことが助けになります。身近な人、患者会、私たちの看護師に。"
                     "2週間以上希望が持てない気持ちが続くときは、医師に相談してください。"}),
    Item("talking-to-your-doctor", "article", needs=["doctor_dialogue"],
         stages=["diagnosis", "treatment_initiation", "switching"],
         title={"en": "Getting the most from your appointment", "de": "Das Beste aus dem Arzttermin machen",
                "fr": "Tirer le meilleur de votre rendez-vous", "ja": "診察を有効に使うために"},
         summary={"en": "Three questions to prepare, and why photos help.",
                  "de": "Drei Fragen zur Vorbereitung, und warum Fotos helfen.",
                  "fr": "Trois questions à préparer, et pourquoi les photos aident.",
                  "ja": "準備しておきたい3つの質問と、写真が役立つ理由。"},
         body={"en": "Appointments are short. Note your three most important questions and bring photos "
                     "of your skin on bad days.\n\nSay how psoriasis affects your daily life, not only your "
                     "skin: it helps your dermatologist choose the right treatment.",
               "de": "Termine sind kurz. Notieren Sie Ihre drei wichtigsten Fragen und bringen Sie Fotos "
                     "Ihrer Haut an schlechten Tagen mit.\n\nErzählen Sie, wie die Psoriasis Ihren Alltag "
                     "beeinflusst, nicht nur Ihre Haut: Das hilft bei der Wahl der richtigen Therapie.",
               "fr": "Les rendez-vous sont courts. Notez vos trois questions les plus importantes et "
                     "apportez des photos de votre peau les mauvais jours.\n\nDites comment le psoriasis "
                     "touche votre quotidien, pas seulement votre peau : cela aide à choisir le bon traitement.",
               "ja": "診察時間は短いものです。いちばん聞きたい質問を3つメモし、調子の悪い日の肌の写真を"
                     "持っていきましょう。\n\n肌のことだけでなく、生活への影響も伝えると、"
                     "医師が治療を選ぶ助けになります。"}),
    Item("everyday-skin-care", "article", needs=["lifestyle"], stages=["daily_management"],
         title={"en": "Everyday life: food, sport and sun", "de": "Alltag: Essen, Sport und Sonne",
                "fr": "Au quotidien : alimentation, sport et soleil", "ja": "毎日の生活：食事・運動・日光"},
         summary={"en": "What the evidence says about habits that help.",
                  "de": "Was die Studien über hilfreiche Gewohnheiten sagen.",
                  "fr": "Ce que disent les études sur les habitudes qui aident.",
                  "ja": "役立つ習慣について、研究でわかっていること。"},
         body={"en": "Regular exercise, not smoking and less alcohol are linked with milder psoriasis.\n\n"
                     "Some sun can help, but sunburn can trigger new plaques: use sunscreen and build up "
                     "slowly. Shower after swimming and moisturise.",
               "de": "Regelmäßige Bewegung, Rauchverzicht und weniger Alkohol gehen mit milderer Psoriasis "
                     "einher.\n\nEtwas Sonne kann helfen, Sonnenbrand aber neue Plaques auslösen: Nutzen Sie "
                     "Sonnenschutz und steigern Sie langsam. Nach dem Schwimmen duschen und eincremen.",
               "fr": "Une activité physique régulière, l'arrêt du tabac et moins d'alcool sont associés à un "
                     "psoriasis plus léger.\n\nUn peu de soleil peut aider, mais un coup de soleil peut "
                     "déclencher de nouvelles plaques : protégez-vous et augmentez progressivement. "
                     "Douchez-vous après la baignade et hydratez-vous.",
               "ja": "定期的な運動、禁煙、お酒を控えることは、乾癬の軽さと関係しています。\n\n"
                     "適度な日光は役立ちますが、日焼けは新しい皮疹のきっかけになります。"
                     "日焼け止めを使い、少しずつ慣らしましょう。泳いだ後はシャワーと保湿を。"}),
    Item("costs-and-support", "article", needs=["practical_access"], stages=["treatment_initiation", "switching"],
         title={"en": "Prescriptions, costs and support", "de": "Rezepte, Kosten und Unterstützung",
                "fr": "Ordonnances, coûts et aide", "ja": "処方・費用・支援"},
         summary={"en": "Who to ask about refills, insurance and travel with your medicine.",
                  "de": "Wen Sie zu Rezepten, Versicherung und Reisen mit dem Medikament fragen.",
                  "fr": "À qui s'adresser pour les renouvellements, l'assurance et les voyages.",
                  "ja": "処方の継続、保険、薬を持っての旅行について。"},
         body={"en": "Your pharmacy can remind you when a refill is due, and your insurer or health "
                     "service explains what you pay.\n\nTravelling? Ask the practice for a letter, carry the "
                     "pens in your hand luggage and keep them cool.",
               "de": "Ihre Apotheke kann Sie an das nächste Rezept erinnern, Ihre Krankenkasse erklärt die "
                     "Zuzahlung.\n\nSie verreisen? Lassen Sie sich in der Praxis eine Bescheinigung geben, "
                     "nehmen Sie die Pens ins Handgepäck und halten Sie sie kühl.",
               "fr": "Votre pharmacie peut vous rappeler le prochain renouvellement, et votre assureur "
                     "vous explique ce qui reste à votre charge.\n\nEn voyage ? Demandez une lettre au "
                     "cabinet, gardez les stylos en bagage à main et au frais.",
               "ja": "薬局で次の処方の時期を知らせてもらえます。自己負担については保険の窓口にご相談ください。\n\n"
                     "旅行の際は、クリニックで証明書をもらい、ペンは機内持ち込みにして冷やしておきましょう。"}),
]

CHECKLISTS_AND_VIDEOS = [
    Item("first-weeks-checklist", "checklist", needs=["treatment_knowledge", "adherence"],
         stages=["treatment_initiation"],
         title={"en": "Your first weeks", "de": "Ihre ersten Wochen", "fr": "Vos premières semaines",
                "ja": "はじめの数週間"},
         body={"en": "☐ Put your dose days in your calendar\n☐ Store the medicine as the leaflet says\n"
                     "☐ Note any reaction and when it happened\n☐ Book the follow-up visit at week 12",
               "de": "☐ Dosistage in den Kalender eintragen\n☐ Medikament laut Beipackzettel lagern\n"
                     "☐ Jede Reaktion mit Datum notieren\n☐ Kontrolltermin in Woche 12 vereinbaren",
               "fr": "☐ Inscrire les jours de dose dans l'agenda\n☐ Conserver le médicament selon la notice\n"
                     "☐ Noter chaque réaction et sa date\n☐ Prendre le rendez-vous de contrôle à la semaine 12",
               "ja": "☐ 投与日をカレンダーに書く\n☐ 説明書どおりに薬を保管する\n"
                     "☐ 気になる反応と日付を記録する\n☐ 12週目の受診を予約する"}),
    Item("appointment-checklist", "checklist", needs=["doctor_dialogue"],
         stages=["diagnosis", "daily_management", "switching"],
         title={"en": "Before your appointment", "de": "Vor Ihrem Arzttermin", "fr": "Avant votre rendez-vous",
                "ja": "受診の前に"},
         body={"en": "☐ Photos of your skin on bad days\n☐ Your three main questions\n"
                     "☐ All medicines and creams you use\n☐ How psoriasis affects work, sleep and mood",
               "de": "☐ Fotos der Haut an schlechten Tagen\n☐ Ihre drei wichtigsten Fragen\n"
                     "☐ Alle Medikamente und Cremes\n☐ Wie Psoriasis Arbeit, Schlaf und Stimmung beeinflusst",
               "fr": "☐ Des photos de la peau les mauvais jours\n☐ Vos trois questions principales\n"
                     "☐ Tous vos médicaments et crèmes\n☐ L'effet du psoriasis sur le travail, le sommeil, le moral",
               "ja": "☐ 調子の悪い日の肌の写真\n☐ いちばん聞きたい質問3つ\n"
                     "☐ 使っている薬と塗り薬すべて\n☐ 仕事・睡眠・気分への影響"}),
    Item("switching-checklist", "checklist", needs=["treatment_knowledge", "doctor_dialogue"], stages=["switching"],
         title={"en": "Changing treatment", "de": "Wenn die Therapie wechselt", "fr": "Changer de traitement",
                "ja": "治療を切り替えるとき"},
         body={"en": "☐ Ask when to stop the old treatment and start the new one\n"
                     "☐ Ask how long until the new one works\n☐ Return or dispose of old pens safely\n"
                     "☐ Tell us, so we send what fits your new treatment",
               "de": "☐ Fragen, wann die alte Therapie endet und die neue beginnt\n"
                     "☐ Fragen, wann die neue wirkt\n☐ Alte Pens sicher zurückgeben oder entsorgen\n"
                     "☐ Uns Bescheid geben, damit wir passende Informationen schicken",
               "fr": "☐ Demander quand arrêter l'ancien traitement et commencer le nouveau\n"
                     "☐ Demander en combien de temps il agit\n☐ Rapporter ou jeter les anciens stylos sans risque\n"
                     "☐ Nous prévenir, pour recevoir ce qui convient au nouveau traitement",
               "ja": "☐ 前の治療をやめる日と新しい治療を始める日を確認する\n"
                     "☐ 効果が出るまでの期間を聞く\n☐ 古いペンを安全に返却・廃棄する\n"
                     "☐ 新しい治療に合った情報を送れるよう、私たちに知らせる"}),
    Item("injection-video", "video", needs=["injection_confidence"], stages=["treatment_initiation"],
         title={"en": "Video: your first injection", "de": "Video: Ihre erste Spritze",
                "fr": "Vidéo : votre première injection", "ja": "動画：はじめての自己注射"},
         url={"en": "https://media.demo.sojourn.example/videos/first-injection-en",
              "de": "https://media.demo.sojourn.example/videos/first-injection-de",
              "fr": "https://media.demo.sojourn.example/videos/first-injection-fr",
              "ja": "https://media.demo.sojourn.example/videos/first-injection-ja"},
         body={"en": "A nurse shows every step with a training pen, in four minutes.",
               "de": "Eine Pflegekraft zeigt jeden Schritt mit einem Übungspen, in vier Minuten.",
               "fr": "Une infirmière montre chaque étape avec un stylo d'entraînement, en quatre minutes.",
               "ja": "看護師が練習用ペンで、すべての手順を4分で説明します。"}),
    Item("moisturising-video", "video", needs=["itch", "lifestyle"], stages=["daily_management"],
         title={"en": "Video: a five-minute skin routine", "de": "Video: Hautpflege in fünf Minuten",
                "fr": "Vidéo : une routine de soin en cinq minutes", "ja": "動画：5分のスキンケア"},
         url={"en": "https://media.demo.sojourn.example/videos/skin-routine-en",
              "de": "https://media.demo.sojourn.example/videos/skin-routine-de",
              "fr": "https://media.demo.sojourn.example/videos/skin-routine-fr",
              "ja": "https://media.demo.sojourn.example/videos/skin-routine-ja"},
         body={"en": "How much cream to use, where to start, and how to soften scales gently.",
               "de": "Wie viel Creme, wo beginnen und wie man Schuppen sanft löst.",
               "fr": "Quelle quantité de crème, par où commencer et comment ramollir les squames en douceur.",
               "ja": "塗る量、塗る順番、うろこをやさしく落とす方法。"}),
]
