"""The demo program's consent documents, written for patients and HCPs in every demo locale.

Demo content only: a sponsor writes its own texts, and they pass MLR review in the console.
"""

from __future__ import annotations

PATIENT = {
    "de": {
        "title": "Einwilligung in die Teilnahme am Programm „Psoriasis-Begleiter“",
        "body": (
            "Der Psoriasis-Begleiter unterstützt Sie im Alltag mit Psoriasis: mit Informationen, Erinnerungen "
            "und, wenn Sie möchten, Gesprächen mit einer Pflegefachkraft. Die Teilnahme ist freiwillig und "
            "kostenlos und ersetzt nicht die Behandlung durch Ihre Ärztin oder Ihren Arzt.\n\n"
            "Wir verarbeiten dafür Ihre Kontaktdaten, Ihre Antworten auf Fragebögen und wie Sie unsere Angebote "
            "nutzen. Ihre Identität wird verschlüsselt gespeichert; Auswertungen sehen nur pseudonymisierte "
            "Daten. Verantwortlich ist Demo Pharma GmbH. Ihre Rechte nach der DSGVO (Auskunft, Berichtigung, "
            "Löschung, Datenübertragbarkeit, Widerspruch) können Sie jederzeit auf Ihrer Seite ausüben.\n\n"
            "Sie können jede Einwilligung jederzeit ohne Angabe von Gründen widerrufen, auf Ihrer Seite, per SMS "
            "mit STOPP oder telefonisch. Der Widerruf wirkt sofort für die Zukunft. Meldungen zu Nebenwirkungen "
            "geben wir wie gesetzlich vorgeschrieben an die Arzneimittelsicherheit weiter."),
        "purposes": {
            "program_participation": "Ich möchte am Programm teilnehmen und bin mit der Verarbeitung meiner "
                                     "Daten dafür einverstanden.",
            "contact_email": "Kontakt per E-Mail",
            "contact_sms": "Kontakt per SMS (Erinnerungen und Tipps)",
            "contact_phone": "Kontakt per Telefon",
            "contact_post": "Das gedruckte Magazin per Post",
            "nurse_calls": "Anrufe einer Pflegefachkraft",
            "research_use": "Nutzung meiner pseudonymisierten Daten für Forschung und die Verbesserung des "
                            "Programms",
            "share_with_hcp": "Zusammenfassungen an meine behandelnde Ärztin oder meinen Arzt senden",
        },
    },
    "en": {
        "title": "Consent to take part in the Psoriasis Companion program",
        "body": (
            "Psoriasis Companion supports you in daily life with psoriasis: with information, reminders and, if "
            "you wish, calls with a nurse. Taking part is voluntary and free, and does not replace the care of "
            "your doctor.\n\n"
            "To do this we process your contact details, your answers to questionnaires and how you use what we "
            "offer. Your identity is stored encrypted; analyses only ever see pseudonymised data. Demo Pharma is "
            "responsible for your data. You can exercise your privacy rights (access, correction, deletion, "
            "portability, objection) at any time from your page.\n\n"
            "You can withdraw any consent at any time without giving a reason: on your page, by texting STOP, "
            "or by phone. Withdrawal takes effect at once. Reports of side effects are passed to drug safety as "
            "the law requires."),
        "purposes": {
            "program_participation": "I want to take part in the program and agree to my data being processed "
                                     "for it.",
            "contact_email": "Contact by email",
            "contact_sms": "Contact by text message (reminders and tips)",
            "contact_phone": "Contact by phone",
            "contact_post": "The printed magazine by post",
            "nurse_calls": "Calls from a nurse",
            "research_use": "Use of my pseudonymised data for research and to improve the program",
            "share_with_hcp": "Send summaries to my treating doctor",
        },
    },
    "ja": {
        "title": "「乾癬サポートプログラム」への参加に関する同意書",
        "body": (
            "乾癬サポートプログラムは、乾癬とともに過ごす毎日を、情報やリマインダー、ご希望に応じて看護師との"
            "電話相談でサポートします。参加は任意・無料であり、主治医による治療に代わるものではありません。\n\n"
            "このために、ご連絡先、質問票へのご回答、サービスのご利用状況を取り扱います。個人を特定できる情報は"
            "暗号化して保管し、分析には仮名化されたデータのみを使用します。個人情報の取扱責任者はデモファーマ株式"
            "会社です。個人情報保護法に基づく開示・訂正・利用停止などの請求は、マイページからいつでも行えます。\n\n"
            "同意はいつでも理由を問わず撤回できます（マイページ、SMS で「停止」と送信、またはお電話で）。"
            "撤回は直ちに有効になります。副作用に関するご報告は、法令に従い安全性管理部門へ伝達します。"),
        "purposes": {
            "program_participation": "プログラムに参加し、そのために私の情報が取り扱われることに同意します。",
            "contact_email": "メールでの連絡",
            "contact_sms": "SMS での連絡（リマインダーとヒント）",
            "contact_phone": "電話での連絡",
            "contact_post": "冊子の郵送",
            "nurse_calls": "看護師からの電話",
            "research_use": "仮名化された私のデータを研究およびプログラム改善に利用すること",
            "share_with_hcp": "要約を主治医に送ること",
        },
    },
    "fr": {
        "title": "Consentement à participer au programme Compagnon psoriasis",
        "body": (
            "Compagnon psoriasis vous soutient au quotidien avec le psoriasis : information, rappels et, si vous "
            "le souhaitez, appels d’une infirmière. La participation est volontaire et gratuite et ne remplace "
            "pas les soins de votre médecin.\n\n"
            "Pour cela, nous traitons vos coordonnées, vos réponses aux questionnaires et votre utilisation de nos "
            "services. Votre identité est conservée chiffrée; les analyses ne voient que des données "
            "pseudonymisées. Demo Pharma est responsable de vos renseignements. Vous pouvez exercer vos droits "
            "(accès, rectification, effacement, portabilité, opposition) en tout temps depuis votre page.\n\n"
            "Vous pouvez retirer tout consentement en tout temps sans donner de raison : sur votre page, par texto "
            "avec ARRÊT ou par téléphone. Le retrait prend effet immédiatement. Les déclarations d’effets "
            "indésirables sont transmises à la pharmacovigilance comme la loi l’exige."),
        "purposes": {
            "program_participation": "Je veux participer au programme et j’accepte que mes renseignements soient "
                                     "traités à cette fin.",
            "contact_email": "Communications par courriel",
            "contact_sms": "Communications par texto (rappels et conseils)",
            "contact_phone": "Communications par téléphone",
            "contact_post": "Le magazine imprimé par la poste",
            "nurse_calls": "Appels d’une infirmière",
            "research_use": "Utilisation de mes données pseudonymisées pour la recherche et l’amélioration du "
                            "programme",
            "share_with_hcp": "Envoi de résumés à mon médecin traitant",
        },
    },
}

HCP = {
    "de": {
        "title": "Einwilligung: Fachkreis-Programm Psoriasis-Begleiter",
        "body": ("Mit Ihrer Anmeldung erhalten Sie Informationen zum Psoriasis-Begleiter, freigegebene "
                 "Materialien für Ihre Praxis und einen Empfehlungscode für Ihre Patientinnen und Patienten. "
                 "Wir speichern Ihre Kontaktdaten und Ihre Arztnummer verschlüsselt. Sie können jederzeit "
                 "widerrufen."),
        "purposes": {"program_participation": "Ich nehme am Fachkreis-Programm teil.",
                     "contact_email": "Informationen per E-Mail"},
    },
    "en": {
        "title": "Consent: Psoriasis Companion program for healthcare professionals",
        "body": ("By enrolling you receive information about Psoriasis Companion, approved materials for your "
                 "practice and a referral code for your patients. We store your contact details and "
                 "professional identifier encrypted. You may withdraw at any time."),
        "purposes": {"program_participation": "I take part in the program for healthcare professionals.",
                     "contact_email": "Information by email"},
    },
    "ja": {
        "title": "同意書：医療従事者向け乾癬サポートプログラム",
        "body": ("ご登録いただくと、乾癬サポートプログラムに関する情報、承認済みの資材、患者さん向けの紹介コードを"
                 "お届けします。ご連絡先と医籍登録番号は暗号化して保管します。同意はいつでも撤回できます。"),
        "purposes": {"program_participation": "医療従事者向けプログラムに参加します。",
                     "contact_email": "メールでの情報提供"},
    },
    "fr": {
        "title": "Consentement : programme Compagnon psoriasis pour les professionnels de la santé",
        "body": ("En vous inscrivant, vous recevez de l’information sur Compagnon psoriasis, du matériel approuvé "
                 "pour votre clinique et un code de recommandation pour vos patients. Vos coordonnées et votre "
                 "numéro de permis sont conservés chiffrés. Vous pouvez retirer votre consentement en tout temps."),
        "purposes": {"program_participation": "Je participe au programme pour les professionnels de la santé.",
                     "contact_email": "Information par courriel"},
    },
}
