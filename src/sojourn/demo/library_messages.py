"""The demo library's messages: a short tip for each need (page, email, text message, magazine), the
onboarding, refill and come-back emails and texts, the nurses' call scripts and the magazine's
stage features. Texts stay within two text-message segments with every variable at its longest."""

from __future__ import annotations

from sojourn.demo.library_item import Item

TIPS = [
    Item("itch-tip", "tip", needs=["itch"], stages=["daily_management"],
         title={"en": "Tip: cool, don't scratch", "de": "Tipp: kühlen statt kratzen",
                "fr": "Astuce : rafraîchir plutôt que gratter", "ja": "ヒント：かかずに冷やす"},
         body={"en": "When the itch starts, press a cool damp cloth on the skin for a minute instead of scratching.",
               "de": "Wenn es juckt: eine Minute ein kühles, feuchtes Tuch auflegen statt zu kratzen.",
               "fr": "Quand ça démange, posez un linge frais et humide une minute au lieu de gratter.",
               "ja": "かゆいときは、かかずに冷たいタオルを1分当てましょう。"}),
    Item("sleep-tip", "tip", needs=["sleep"], stages=["daily_management"],
         title={"en": "Tip: cream an hour before bed", "de": "Tipp: eine Stunde vor dem Schlafen eincremen",
                "fr": "Astuce : la crème une heure avant le coucher", "ja": "ヒント：寝る1時間前に保湿"},
         body={"en": "Apply your cream an hour before bed and keep the bedroom cool: less itch at night.",
               "de": "Cremen Sie sich eine Stunde vor dem Schlafen ein und halten Sie das Zimmer kühl.",
               "fr": "Appliquez la crème une heure avant de dormir et gardez la chambre fraîche.",
               "ja": "寝る1時間前に保湿し、寝室を涼しく保つと夜のかゆみが和らぎます。"}),
    Item("flare-tip", "tip", needs=["flare_management"], stages=["daily_management", "switching"],
         title={"en": "Tip: note what changed", "de": "Tipp: notieren, was sich geändert hat",
                "fr": "Astuce : noter ce qui a changé", "ja": "ヒント：変化を記録する"},
         body={"en": "A flare? Note the date, stress, infections and new medicines. It helps your doctor.",
               "de": "Ein Schub? Notieren Sie Datum, Stress, Infekte und neue Medikamente. Das hilft der Praxis.",
               "fr": "Une poussée ? Notez la date, le stress, les infections, les nouveaux médicaments.",
               "ja": "悪化したら、日付・ストレス・感染・新しい薬を記録しましょう。"}),
    Item("treatment-tip", "tip", needs=["treatment_knowledge"], stages=["treatment_initiation"],
         title={"en": "Tip: give it time", "de": "Tipp: Geben Sie der Therapie Zeit",
                "fr": "Astuce : laissez-lui le temps", "ja": "ヒント：効果には時間がかかります"},
         body={"en": "Most treatments show their effect after 8 to 16 weeks. Keep going.",
               "de": "Die meisten Therapien wirken nach 8 bis 16 Wochen. Bleiben Sie dran.",
               "fr": "La plupart des traitements agissent après 8 à 16 semaines. Continuez.",
               "ja": "多くの治療は8〜16週間で効果が見えてきます。続けましょう。"}),
    Item("side-effects-tip", "tip", needs=["side_effects"], stages=["treatment_initiation", "switching"],
         title={"en": "Tip: tell us about reactions", "de": "Tipp: Reaktionen mitteilen",
                "fr": "Astuce : signalez les réactions", "ja": "ヒント：反応を伝えてください"},
         body={"en": "A reaction that worries you? Call your doctor, or tell our nurse when we call.",
               "de": "Eine Reaktion beunruhigt Sie? Rufen Sie die Praxis an oder sagen Sie es unserer Pflegekraft.",
               "fr": "Une réaction vous inquiète ? Appelez votre médecin ou dites-le à notre infirmière.",
               "ja": "気になる反応があれば、医師か看護師に伝えてください。"}),
    Item("injection-tip", "tip", needs=["injection_confidence"], stages=["treatment_initiation"],
         title={"en": "Tip: room temperature", "de": "Tipp: Zimmertemperatur", "fr": "Astuce : à température ambiante",
                "ja": "ヒント：室温に戻す"},
         body={"en": "Take the pen out of the fridge 30 minutes early: the injection stings less.",
               "de": "Nehmen Sie den Pen 30 Minuten vorher aus dem Kühlschrank: Das brennt weniger.",
               "fr": "Sortez le stylo du frigo 30 minutes avant : l'injection pique moins.",
               "ja": "注射の30分前に冷蔵庫から出すと、痛みが少なくなります。"}),
    Item("adherence-tip", "tip", needs=["adherence"], stages=["treatment_initiation", "daily_management"],
         title={"en": "Tip: pair your dose with a habit", "de": "Tipp: Dosis an eine Gewohnheit koppeln",
                "fr": "Astuce : associer la dose à une habitude", "ja": "ヒント：習慣と組み合わせる"},
         body={"en": "Link your dose to breakfast or a weekly routine, and set a phone reminder.",
               "de": "Koppeln Sie die Dosis ans Frühstück oder eine feste Routine und stellen Sie eine Erinnerung.",
               "fr": "Liez votre dose au petit-déjeuner ou à un rituel, avec un rappel sur le téléphone.",
               "ja": "朝食や毎週の習慣と結びつけ、スマホのリマインダーも使いましょう。"}),
    Item("psychosocial-tip", "tip", needs=["psychosocial"], stages=["diagnosis", "daily_management"],
         title={"en": "Tip: you are not alone", "de": "Tipp: Sie sind nicht allein",
                "fr": "Astuce : vous n'êtes pas seul(e)", "ja": "ヒント：ひとりではありません"},
         body={"en": "Many people with psoriasis feel low at times. A patient group or our nurse can listen.",
               "de": "Viele mit Psoriasis sind manchmal niedergeschlagen. Eine Selbsthilfegruppe oder wir hören zu.",
               "fr": "Beaucoup se sentent parfois abattus. Une association ou notre infirmière vous écoute.",
               "ja": "落ち込むことは誰にでもあります。患者会や看護師がお話を聞きます。"}),
    Item("doctor-tip", "tip", needs=["doctor_dialogue"], stages=["diagnosis", "switching"],
         title={"en": "Tip: bring photos", "de": "Tipp: Fotos mitbringen", "fr": "Astuce : apportez des photos",
                "ja": "ヒント：写真を持参"},
         body={"en": "Take photos on bad skin days and show them at your next appointment.",
               "de": "Fotografieren Sie die Haut an schlechten Tagen und zeigen Sie die Bilder beim nächsten Termin.",
               "fr": "Photographiez votre peau les mauvais jours et montrez-les au prochain rendez-vous.",
               "ja": "調子の悪い日の肌を撮影し、次の受診で見せましょう。"}),
    Item("lifestyle-tip", "tip", needs=["lifestyle"], stages=["daily_management"],
         title={"en": "Tip: sun, gently", "de": "Tipp: Sonne, aber sanft", "fr": "Astuce : le soleil, en douceur",
                "ja": "ヒント：日光はほどほどに"},
         body={"en": "A little sun can help, sunburn can trigger plaques. Use sunscreen and build up slowly.",
               "de": "Etwas Sonne hilft, Sonnenbrand löst Plaques aus. Sonnenschutz nutzen, langsam steigern.",
               "fr": "Un peu de soleil aide, un coup de soleil déclenche des plaques. Protégez-vous.",
               "ja": "適度な日光は助けになりますが、日焼けは悪化のもと。日焼け止めを。"}),
    Item("access-tip", "tip", needs=["practical_access"], stages=["treatment_initiation", "daily_management"],
         title={"en": "Tip: refill early", "de": "Tipp: rechtzeitig nachbestellen",
                "fr": "Astuce : renouvelez à temps", "ja": "ヒント：早めに処方を"},
         body={"en": "Order your next prescription when one pack is left, so you never run out.",
               "de": "Bestellen Sie das nächste Rezept, wenn noch eine Packung übrig ist.",
               "fr": "Renouvelez l'ordonnance quand il reste une boîte, pour ne jamais manquer.",
               "ja": "残りが1箱になったら、次の処方を受けましょう。"}),
]

EMAILS_AND_TEXTS = [
    Item("welcome-email", "email", stages=["diagnosis", "treatment_initiation", "daily_management", "switching"],
         subject={"en": "Welcome to {program_name}", "de": "Willkommen bei {program_name}",
                  "fr": "Bienvenue dans {program_name}", "ja": "{program_name}へようこそ"},
         body={"en": "Hello {given_name},\n\nthank you for joining. Your personal page gathers what fits your "
                     "needs: {portal_link}\n\nYou decide how we contact you, and you can change it at any time.",
               "de": "Hallo {given_name},\n\ndanke, dass Sie dabei sind. Ihre persönliche Seite sammelt, was zu "
                     "Ihnen passt: {portal_link}\n\nSie bestimmen, wie wir Sie erreichen, und können es "
                     "jederzeit ändern.",
               "fr": "Bonjour {given_name},\n\nmerci de nous avoir rejoints. Votre page personnelle réunit ce "
                     "qui vous correspond : {portal_link}\n\nVous choisissez comment nous vous contactons, et "
                     "pouvez le changer à tout moment.",
               "ja": "{given_name}様\n\nご参加ありがとうございます。あなたに合った情報は個人ページにまとめています："
                     "{portal_link}\n\n連絡方法はいつでも変更できます。"}),
    Item("week-one-email", "email", stages=["diagnosis", "treatment_initiation"],
         subject={"en": "Your first week with {program_name}", "de": "Ihre erste Woche mit {program_name}",
                  "fr": "Votre première semaine avec {program_name}", "ja": "{program_name}の最初の1週間"},
         body={"en": "Hello {given_name},\n\na short questionnaire tells us what matters most to you, so we "
                     "send only what helps. It takes five minutes: {portal_link}",
               "de": "Hallo {given_name},\n\nein kurzer Fragebogen zeigt uns, was Ihnen am wichtigsten ist, "
                     "damit wir nur Hilfreiches schicken. Er dauert fünf Minuten: {portal_link}",
               "fr": "Bonjour {given_name},\n\nun court questionnaire nous dit ce qui compte le plus pour vous, "
                     "pour ne vous envoyer que l'utile. Il prend cinq minutes : {portal_link}",
               "ja": "{given_name}様\n\n短い質問票で、あなたにとって大切なことを教えてください。"
                     "役立つ情報だけをお送りします。5分で終わります：{portal_link}"}),
    Item("we-miss-you-email", "email", stages=["treatment_initiation", "daily_management", "switching"],
         subject={"en": "Something new for you, {given_name}", "de": "Neues für Sie, {given_name}",
                  "fr": "Du nouveau pour vous, {given_name}", "ja": "{given_name}様へ新しいお知らせ"},
         body={"en": "Hello {given_name},\n\nwe have not seen you for a while. Your page has new articles "
                     "chosen for you: {portal_link}\n\nIf you would rather hear less from us, say so there.",
               "de": "Hallo {given_name},\n\nwir haben Sie eine Weile nicht gesehen. Auf Ihrer Seite gibt es "
                     "neue Artikel für Sie: {portal_link}\n\nWenn Sie seltener von uns hören möchten, können "
                     "Sie das dort einstellen.",
               "fr": "Bonjour {given_name},\n\ncela fait un moment. Votre page a de nouveaux articles choisis "
                     "pour vous : {portal_link}\n\nSi vous préférez moins de messages, indiquez-le sur la page.",
               "ja": "{given_name}様\n\nしばらくお会いしていませんね。あなたのページに新しい記事があります："
                     "{portal_link}\n\n連絡を減らしたい場合は、ページで設定できます。"}),
    Item("refill-email", "email", needs=["adherence", "practical_access"],
         stages=["treatment_initiation", "daily_management"],
         subject={"en": "Time to order your next prescription", "de": "Zeit für Ihr nächstes Rezept",
                  "fr": "Pensez à votre prochaine ordonnance", "ja": "次の処方の時期です"},
         body={"en": "Hello {given_name},\n\nyour current pack will run out in about a week. Order your "
                     "prescription now so your treatment continues without a gap.",
               "de": "Hallo {given_name},\n\nIhre Packung reicht noch etwa eine Woche. Bestellen Sie jetzt "
                     "das Rezept, damit die Therapie ohne Pause weitergeht.",
               "fr": "Bonjour {given_name},\n\nvotre boîte sera finie dans une semaine environ. Renouvelez "
                     "l'ordonnance maintenant pour continuer sans interruption.",
               "ja": "{given_name}様\n\n今の薬はあと1週間ほどでなくなります。治療を途切れさせないよう、"
                     "今のうちに処方を受けてください。"}),
    Item("getting-started-sms", "sms", stages=["diagnosis", "treatment_initiation"],
         body={"en": "Hi {given_name}, your personal psoriasis page is ready. Reply HELP for help, STOP to stop.",
               "de": "Hallo {given_name}, Ihre persönliche Psoriasis-Seite ist bereit. "
                     "HILFE für Hilfe, STOP zum Beenden.",
               "fr": "Bonjour {given_name}, votre page psoriasis est prête. AIDE pour de l'aide, STOP pour arrêter.",
               "ja": "{given_name}様、乾癬の個人ページの準備ができました。停止はSTOP。"}),
    Item("refill-sms", "sms", needs=["adherence"], stages=["treatment_initiation", "daily_management"],
         body={"en": "Hi {given_name}, your pack runs out in about a week: time to order your prescription.",
               "de": "Hallo {given_name}, Ihre Packung reicht noch etwa eine Woche: Zeit für das Rezept.",
               "fr": "Bonjour {given_name}, votre boîte finit dans une semaine : pensez à l'ordonnance.",
               "ja": "{given_name}様、薬はあと1週間ほどです。処方を受けましょう。"}),
    Item("missed-dose-sms", "sms", needs=["adherence"], stages=["treatment_initiation", "daily_management"],
         body={"en": "Hi {given_name}, a missed dose happens. Check the leaflet for what to do, never double up.",
               "de": "Hallo {given_name}, eine vergessene Dosis kommt vor. Siehe Beipackzettel, nie doppelt nehmen.",
               "fr": "Bonjour {given_name}, une dose oubliée, ça arrive. Voyez la notice, ne doublez jamais.",
               "ja": "{given_name}様、飲み忘れは誰にでもあります。説明書を確認し、2回分は使わないで。"}),
    # Drug safety's follow-up question waits on the patient's page: the notice never carries the question.
    Item("safety-question-email", "email",
         subject={"en": "A question from our drug safety team", "de": "Eine Frage unserer Arzneimittelsicherheit",
                  "fr": "Une question de notre équipe de pharmacovigilance", "ja": "安全性部門からのご質問"},
         body={"en": "Hello {given_name},\n\nthank you for telling us how you are. Our drug safety team has a "
                     "question about it. Please read and answer it on your page: {portal_link}",
               "de": "Hallo {given_name},\n\ndanke, dass Sie uns erzählt haben, wie es Ihnen geht. Unsere "
                     "Arzneimittelsicherheit hat dazu eine Frage. Bitte lesen und beantworten Sie sie auf Ihrer "
                     "Seite: {portal_link}",
               "fr": "Bonjour {given_name},\n\nmerci de nous avoir dit comment vous allez. Notre équipe de "
                     "pharmacovigilance a une question à ce sujet. Lisez-la et répondez sur votre page : "
                     "{portal_link}",
               "ja": "{given_name}様\n\nご様子をお知らせいただきありがとうございます。安全性部門からご質問が"
                     "あります。あなたのページでご確認のうえ、ご回答ください：{portal_link}"}),
    Item("safety-question-sms", "sms",
         body={"en": "Hi {given_name}, our drug safety team has a question for you on your page: {portal_link}",
               "de": "Hallo {given_name}, unsere Arzneimittelsicherheit hat eine Frage auf Ihrer Seite: "
                     "{portal_link}",
               "fr": "Bonjour {given_name}, notre pharmacovigilance a une question sur votre page : {portal_link}",
               "ja": "{given_name}様、安全性部門からの質問があなたのページにあります：{portal_link}"}),
    Item("come-back-sms", "sms", stages=["treatment_initiation", "daily_management", "switching"],
         body={"en": "Hi {given_name}, new articles are waiting on your psoriasis page. STOP to stop.",
               "de": "Hallo {given_name}, neue Artikel warten auf Ihrer Psoriasis-Seite. STOP zum Beenden.",
               "fr": "Bonjour {given_name}, de nouveaux articles vous attendent. STOP pour arrêter.",
               "ja": "{given_name}様、乾癬のページに新しい記事があります。停止はSTOP。"}),
]

CALL_SCRIPTS = [
    Item("psychosocial-call", "call_script", needs=["psychosocial"],
         title={"en": "Call: how are you coping?", "de": "Anruf: Wie geht es Ihnen damit?",
                "fr": "Appel : comment vivez-vous cela ?", "ja": "電話：いかがお過ごしですか"},
         body={"en": "1. Introduce yourself and the program; check it is a good moment.\n"
                     "2. Ask openly how psoriasis affects mood, work and relationships.\n"
                     "3. Listen; reflect back what you heard.\n4. Offer the patient group contacts and the "
                     "article on feelings.\n5. If low mood lasts over two weeks or the patient mentions "
                     "self-harm, follow the escalation procedure and advise seeing the doctor today.",
               "de": "1. Sich und das Programm vorstellen; fragen, ob es gerade passt.\n"
                     "2. Offen fragen, wie die Psoriasis Stimmung, Arbeit und Beziehungen beeinflusst.\n"
                     "3. Zuhören; das Gehörte zusammenfassen.\n4. Kontakte zur Selbsthilfe und den Artikel "
                     "zu Gefühlen anbieten.\n5. Bei gedrückter Stimmung über zwei Wochen oder Hinweisen auf "
                     "Selbstverletzung: Eskalationsverfahren befolgen, heute ärztliche Hilfe empfehlen.",
               "fr": "1. Se présenter et présenter le programme ; vérifier que le moment convient.\n"
                     "2. Demander ouvertement l'effet du psoriasis sur le moral, le travail, les relations.\n"
                     "3. Écouter ; reformuler.\n4. Proposer les contacts d'associations et l'article sur le "
                     "moral.\n5. Si le moral est bas depuis plus de deux semaines ou en cas d'idées "
                     "d'automutilation : suivre la procédure d'escalade, conseiller un médecin aujourd'hui.",
               "ja": "1. 自己紹介とプログラムの説明。今話せるか確認する。\n"
                     "2. 乾癬が気分・仕事・人間関係にどう影響しているか、開かれた質問で聞く。\n"
                     "3. 傾聴し、聞いた内容を要約して返す。\n4. 患者会の連絡先と気持ちに関する記事を案内する。\n"
                     "5. 2週間以上の落ち込みや自傷の話があれば、エスカレーション手順に従い、"
                     "本日中の受診を勧める。"}),
    Item("adherence-call", "call_script", needs=["adherence", "side_effects"],
         title={"en": "Call: keeping up with treatment", "de": "Anruf: Dranbleiben an der Therapie",
                "fr": "Appel : poursuivre le traitement", "ja": "電話：治療の継続"},
         body={"en": "1. Introduce yourself; check it is a good moment.\n2. Ask how the doses are going and "
                     "what gets in the way.\n3. Ask about any reaction since starting; record a suspected "
                     "side effect as an adverse event.\n4. Agree one small step (a reminder, a routine).\n"
                     "5. Offer a call back in two weeks.",
               "de": "1. Vorstellen; fragen, ob es gerade passt.\n2. Fragen, wie es mit den Dosen klappt und "
                     "was im Weg steht.\n3. Nach Reaktionen seit Therapiebeginn fragen; einen Verdacht als "
                     "Nebenwirkung erfassen.\n4. Einen kleinen Schritt vereinbaren (Erinnerung, Routine).\n"
                     "5. Einen Rückruf in zwei Wochen anbieten.",
               "fr": "1. Se présenter ; vérifier que le moment convient.\n2. Demander comment se passent les "
                     "doses et ce qui gêne.\n3. Demander s'il y a eu une réaction ; enregistrer tout effet "
                     "suspecté comme événement indésirable.\n4. Convenir d'un petit pas (rappel, habitude).\n"
                     "5. Proposer un rappel dans deux semaines.",
               "ja": "1. 自己紹介。今話せるか確認する。\n2. 投与が順調か、妨げになっていることを聞く。\n"
                     "3. 開始後の反応を聞き、副作用の疑いは有害事象として記録する。\n"
                     "4. 小さな一歩（リマインダー、習慣）を一緒に決める。\n5. 2週間後の折り返しを提案する。"}),
]

MAGAZINE = [
    Item("magazine-diagnosis", "print_block", stages=["diagnosis"], needs=["treatment_knowledge"],
         title={"en": "New to psoriasis", "de": "Neu mit Psoriasis", "fr": "Nouveau avec le psoriasis",
                "ja": "乾癬と診断されたら"},
         body={"en": "Psoriasis is common, not contagious, and well treatable today. This issue explains the "
                     "types of treatment and how to prepare for your next appointment.",
               "de": "Psoriasis ist häufig, nicht ansteckend und heute gut behandelbar. Diese Ausgabe erklärt "
                     "die Therapiearten und wie Sie sich auf den nächsten Termin vorbereiten.",
               "fr": "Le psoriasis est fréquent, non contagieux et bien traitable aujourd'hui. Ce numéro "
                     "présente les traitements et comment préparer votre prochain rendez-vous.",
               "ja": "乾癬はよくある病気で、うつらず、今はよく治療できます。今号では治療の種類と"
                     "受診の準備について紹介します。"}),
    Item("magazine-starting", "print_block", stages=["treatment_initiation"], needs=["injection_confidence"],
         title={"en": "Starting treatment", "de": "Die Therapie beginnt", "fr": "Le début du traitement",
                "ja": "治療を始める"},
         body={"en": "The first twelve weeks: what to expect, how to store your medicine and why it is worth "
                     "keeping going before the skin clears.",
               "de": "Die ersten zwölf Wochen: was Sie erwartet, wie Sie das Medikament lagern und warum es "
                     "sich lohnt, dranzubleiben, bevor die Haut abheilt.",
               "fr": "Les douze premières semaines : à quoi s'attendre, comment conserver le médicament et "
                     "pourquoi persévérer avant que la peau ne s'améliore.",
               "ja": "最初の12週間：何が起こるか、薬の保管方法、肌がよくなる前から続けることの大切さ。"}),
    Item("magazine-everyday", "print_block", stages=["daily_management"], needs=["lifestyle", "itch"],
         title={"en": "Everyday life", "de": "Der Alltag", "fr": "Au quotidien", "ja": "毎日の暮らし"},
         body={"en": "Readers share their skin routines, travel tips and how they talk about psoriasis at "
                     "work.",
               "de": "Leserinnen und Leser erzählen von ihrer Hautpflege, Reisetipps und wie sie bei der "
                     "Arbeit über Psoriasis sprechen.",
               "fr": "Des lecteurs partagent leurs soins de peau, leurs conseils de voyage et comment ils "
                     "parlent du psoriasis au travail.",
               "ja": "読者のスキンケア、旅行のコツ、職場での乾癬の話し方を紹介します。"}),
    Item("magazine-switching", "print_block", stages=["switching"], needs=["doctor_dialogue"],
         title={"en": "When treatment changes", "de": "Wenn die Therapie wechselt",
                "fr": "Quand le traitement change", "ja": "治療が変わるとき"},
         body={"en": "Changing treatment is common and often brings better control. Questions to ask, and "
                     "what happens in the weeks of the switch.",
               "de": "Ein Therapiewechsel ist häufig und bringt oft bessere Kontrolle. Fragen, die Sie stellen "
                     "können, und was in den Wochen des Wechsels passiert.",
               "fr": "Changer de traitement est fréquent et améliore souvent le contrôle. Les questions à "
                     "poser et ce qui se passe pendant les semaines du changement.",
               "ja": "治療の切り替えはよくあることで、よりよいコントロールにつながることが多いです。"
                     "聞いておきたい質問と、切り替え期間に起こること。"}),
]
