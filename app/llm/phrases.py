"""The grounded provider's sentences in each language. Only connective text lives here; every
fact (titles, brands, prices, sizes, ratings, stock, quoted documents) comes from the data.

Counts: `found_*` introduce the product list with what is true of it. `{total}` is how many
products match (the search's exact total for the same words and filters, which the stream's
`product_cards.total` also carries); `{n}` is how many cards are shown. When they differ the
answer says both ("I found 41 ...; here are the 4 best"), when they are equal one number, so
no count in an answer is something the shopper cannot see or search for.
"""

from __future__ import annotations

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "found_one": "I found 1 product in our catalog that fits what you asked for:",
        "found_all": "I found {n} products in our catalog that fit what you asked for:",
        "found_best": "I found {total} products in our catalog that fit what you asked for; here are the {n} best:",
        "by": "by",
        "sizes": "sizes",
        "rated": "rated {rating}/5",
        "in_stock": "in stock",
        "out_of_stock": "currently out of stock",
        "within_budget": "All of them are within your budget of {budget}.",
        "best_rated": "The best rated of these is {title} at {rating}/5.",
        "from_docs": "From {source}:",
        "page": "page {page}",
        "nothing": "I could not find anything matching that in our catalog or our store documents. "
                   "Could you tell me the category, colour or budget you have in mind?",
        "s_cheaper": "Show me cheaper options",
        "s_color": "Do you have it in {color}?",
        "s_sizes": "What sizes does {title} come in?",
        "s_more_doc": "What else does {source} say?",
        "s_best": "Show me your best rated {category}",
        "s_start": "Show me wedding lehengas",
        "s_policy": "What is your return policy?",
    },
    "hi": {
        "found_one": "हमारे कैटलॉग में आपकी ज़रूरत से मेल खाता 1 उत्पाद मिला:",
        "found_all": "हमारे कैटलॉग में आपकी ज़रूरत से मेल खाते {n} उत्पाद मिले:",
        "found_best": "हमारे कैटलॉग में आपकी ज़रूरत से मेल खाते {total} उत्पाद मिले; ये रहे सबसे अच्छे {n}:",
        "by": "ब्रांड",
        "sizes": "साइज़",
        "rated": "रेटिंग {rating}/5",
        "in_stock": "स्टॉक में",
        "out_of_stock": "अभी स्टॉक में नहीं",
        "within_budget": "ये सभी आपके {budget} के बजट में हैं।",
        "best_rated": "इनमें सबसे अच्छी रेटिंग {title} की है: {rating}/5।",
        "from_docs": "{source} के अनुसार:",
        "page": "पृष्ठ {page}",
        "nothing": "मुझे हमारे कैटलॉग या दस्तावेज़ों में इससे मिलता कुछ नहीं मिला। "
                   "क्या आप श्रेणी, रंग या बजट बता सकते हैं?",
        "s_cheaper": "सस्ते विकल्प दिखाइए",
        "s_color": "क्या यह {color} रंग में है?",
        "s_sizes": "{title} किन साइज़ में आता है?",
        "s_more_doc": "{source} में और क्या लिखा है?",
        "s_best": "सबसे अच्छी रेटिंग वाले {category} दिखाइए",
        "s_start": "शादी के लिए लहंगे दिखाइए",
        "s_policy": "आपकी रिटर्न पॉलिसी क्या है?",
    },
    "fa": {
        "found_one": "1 محصول از کاتالوگ ما با درخواست شما جور است:",
        "found_all": "{n} محصول از کاتالوگ ما با درخواست شما جور است:",
        "found_best": "{total} محصول از کاتالوگ ما با درخواست شما جور است؛ این {n} مورد بهترین‌هایشان هستند:",
        "by": "از برند",
        "sizes": "سایزها",
        "rated": "امتیاز {rating} از ۵",
        "in_stock": "موجود",
        "out_of_stock": "فعلاً ناموجود",
        "within_budget": "همه در بودجهٔ {budget} شما هستند.",
        "best_rated": "بهترین امتیاز را {title} دارد: {rating} از ۵.",
        "from_docs": "بر اساس {source}:",
        "page": "صفحهٔ {page}",
        "nothing": "چیزی مطابق این درخواست در کاتالوگ یا اسناد فروشگاه پیدا نکردم. "
                   "می‌توانید دسته، رنگ یا بودجهٔ مورد نظرتان را بگویید؟",
        "s_cheaper": "گزینه‌های ارزان‌تر را نشان بده",
        "s_color": "آیا به رنگ {color} هم دارید؟",
        "s_sizes": "{title} در چه سایزهایی هست؟",
        "s_more_doc": "{source} دیگر چه می‌گوید؟",
        "s_best": "بهترین {category}ها از نظر امتیاز را نشان بده",
        "s_start": "لباس‌های عروسی را نشان بده",
        "s_policy": "شرایط مرجوعی شما چیست؟",
    },
    "ar": {
        "found_one": "المنتج الوحيد في كتالوجنا الذي يناسب طلبك:",
        "found_all": "المنتجات التي تناسب طلبك في كتالوجنا ({n}):",
        "found_best": "عدد المنتجات التي تناسب طلبك في كتالوجنا: {total}. إليك أفضل {n}:",
        "by": "من",
        "sizes": "المقاسات",
        "rated": "التقييم {rating}/5",
        "in_stock": "متوفر",
        "out_of_stock": "غير متوفر حالياً",
        "within_budget": "جميعها ضمن ميزانيتك البالغة {budget}.",
        "best_rated": "الأعلى تقييماً بينها {title} بتقييم {rating}/5.",
        "from_docs": "بحسب {source}:",
        "page": "صفحة {page}",
        "nothing": "لم أجد ما يطابق طلبك في الكتالوج أو مستندات المتجر. "
                   "هل يمكنك إخباري بالفئة أو اللون أو الميزانية؟",
        "s_cheaper": "أرني خيارات أرخص",
        "s_color": "هل يتوفر باللون {color}؟",
        "s_sizes": "ما المقاسات المتوفرة من {title}؟",
        "s_more_doc": "ماذا يقول {source} أيضاً؟",
        "s_best": "أرني الأعلى تقييماً من {category}",
        "s_start": "أرني فساتين الأعراس",
        "s_policy": "ما هي سياسة الإرجاع؟",
    },
    "ru": {
        "found_one": "В нашем каталоге под ваш запрос подходит один товар:",
        "found_all": "Подходящие товары из нашего каталога ({n}):",
        "found_best": "В нашем каталоге под ваш запрос подходит товаров: {total}. Вот лучшие ({n}):",
        "by": "бренд",
        "sizes": "размеры",
        "rated": "оценка {rating}/5",
        "in_stock": "в наличии",
        "out_of_stock": "сейчас нет в наличии",
        "within_budget": "Все они укладываются в ваш бюджет {budget}.",
        "best_rated": "Лучшая оценка у {title}: {rating}/5.",
        "from_docs": "Из документа {source}:",
        "page": "страница {page}",
        "nothing": "Я не нашёл ничего подходящего в каталоге и документах магазина. "
                   "Подскажите категорию, цвет или бюджет?",
        "s_cheaper": "Покажи варианты дешевле",
        "s_color": "Есть ли это в цвете {color}?",
        "s_sizes": "Какие размеры есть у {title}?",
        "s_more_doc": "Что ещё сказано в {source}?",
        "s_best": "Покажи {category} с лучшими оценками",
        "s_start": "Покажи свадебные наряды",
        "s_policy": "Какие у вас условия возврата?",
    },
    "he": {
        "found_one": "מצאתי בקטלוג שלנו מוצר אחד שמתאים לבקשה שלך:",
        "found_all": "מצאתי בקטלוג שלנו {n} מוצרים שמתאימים לבקשה שלך:",
        "found_best": "מצאתי בקטלוג שלנו {total} מוצרים שמתאימים לבקשה שלך; הנה {n} הטובים ביותר:",
        "by": "של",
        "sizes": "מידות",
        "rated": "דירוג {rating}/5",
        "in_stock": "במלאי",
        "out_of_stock": "אזל מהמלאי כרגע",
        "within_budget": "כולן בתוך התקציב שלך, {budget}.",
        "best_rated": "הדירוג הגבוה ביותר הוא של {title}: {rating}/5.",
        "from_docs": "לפי {source}:",
        "page": "עמוד {page}",
        "nothing": "לא מצאתי התאמה בקטלוג או במסמכי החנות. "
                   "אפשר לספר לי מה הקטגוריה, הצבע או התקציב?",
        "s_cheaper": "הראה לי אפשרויות זולות יותר",
        "s_color": "יש את זה בצבע {color}?",
        "s_sizes": "באילו מידות מגיע {title}?",
        "s_more_doc": "מה עוד כתוב ב-{source}?",
        "s_best": "הראה לי את ה{category} עם הדירוג הגבוה ביותר",
        "s_start": "הראה לי בגדים לחתונה",
        "s_policy": "מה מדיניות ההחזרות שלכם?",
    },
}


def phrase(language: str, key: str, **values: object) -> str:
    table = PHRASES.get(language, PHRASES["en"])
    return table.get(key, PHRASES["en"][key]).format(**values)


def inr(amount: float) -> str:
    """₹ with Indian digit grouping: 129999 -> ₹1,29,999; paise only when there are any."""
    whole, paise = divmod(round(abs(float(amount)) * 100), 100)
    digits = str(int(whole))
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join(groups) + "," + tail
    sign = "-" if amount < 0 else ""
    return f"{sign}₹{digits}" + (f".{paise:02d}" if paise else "")
