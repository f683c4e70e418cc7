"""The sales agent's fixed sentences in the languages it answers in (en, hi, fa, ru, he), as
app/llm/phrases.py holds the chat's. Only connective text: every title, price, count and
catalog value comes from the turn and the tools' results, unchanged.

English is written by app/agent/reply.py itself (its sentences grew with the catalog's
grammar: plurals, "for men", "in size M"); the other languages name what was asked in a
short form with the catalog's own words (`brief`): "saree · red · silk, ₹5,000 तक".
"""

from __future__ import annotations

from app.llm.phrases import inr
from app.search.constraints import Filters

WORDING: dict[str, dict[str, str]] = {
    "hi": {
        "only_one": "अब तक मैंने आपको सिर्फ़ एक उत्पाद दिखाया है, **{title}**{price}, इसलिए तुलना के लिए अभी कुछ नहीं है। और विकल्प मांगिए या कोई दूसरा उत्पाद बताइए, मैं दोनों की तुलना कर दूंगा।",
        "which_two": "किन दो की तुलना करूं? पहले कुछ उत्पाद मांगिए, फिर कहिए “पहले दो की तुलना करो”।",
        "comparing": "**{a}** और **{b}** की तुलना:",
        "c_price": "कीमत",
        "c_rating": "रेटिंग",
        "c_brand": "ब्रांड",
        "c_fabric": "कपड़ा",
        "c_occasion": "मौका",
        "c_sizes": "साइज़",
        "c_stock": "स्टॉक",
        "cheaper_by": "{which} {gap} सस्ता है",
        "ordinal": "पहला|दूसरा|तीसरा|चौथा",
        "in_short": "संक्षेप में: {verdict}।",
        "wins_price": "कीमत में {which} आगे है",
        "wins_rating": "रेटिंग में {which}",
        "comes_in": "**{title}** इन साइज़ में आता है: {sizes}, और यह {stock}।",
        "listed_in": "हां — **{title}** साइज़ {size} में है, और यह {stock}।",
        "not_listed": "**{title}** साइज़ {size} में नहीं है; यह इनमें आता है: {sizes}।",
        "no_sizes": "कोई साइज़ नहीं",
        "in_stock": "स्टॉक में है",
        "out_of_stock": "अभी स्टॉक में नहीं है",
        "per_size": "मैं देख सकता हूं कि हर उत्पाद किन साइज़ में है और स्टॉक में है या नहीं, पर हर साइज़ के कितने पीस बचे हैं, यह नहीं।",
        "no_chart": "मेरे दस्तावेज़ों में इनका साइज़ चार्ट नहीं है।",
        "which_product": "आप किस उत्पाद की बात कर रहे हैं? पहले कुछ मांगिए, फिर मैं बता दूंगा वह किन साइज़ में आता है।",
        "stock_state": "**{title}** {stock}{sizes}।",
        "stock_sizes": " (साइज़ {sizes})",
        "flag_only": "मुझे सिर्फ़ स्टॉक का संकेत दिखता है — मात्रा या डिलीवरी की तारीख नहीं।",
        "flag_sizes": "मुझे स्टॉक का संकेत और उत्पाद के साइज़ दिखते हैं — हर साइज़ की मात्रा नहीं।",
        "colours": "रंग",
        "clarify": "मुझे पक्का समझ नहीं आया कि आप क्या ढूंढ रहे हैं। क्या आप कोई उत्पाद ढूंढ रहे हैं "
                   "(प्रकार, रंग, साइज़ या बजट बताइए), सामान की तुलना कर रहे हैं, या ऑर्डर या रिटर्न के बारे में पूछ रहे हैं?",
        "lead_best": "मुझे {total} उत्पाद मिले ({kind}); ये रहे सबसे अच्छे {shown}:",
        "lead_one": "मुझे बस एक उत्पाद मिला ({kind}):",
        "lead_all": "ये रहे {shown} उत्पाद जो मुझे मिले ({kind}):",
        "nothing": "हमारे कैटलॉग में मुझे यह नहीं मिला: {kind}।",
        "more": "क्या आप थोड़ा और बताएंगे — उत्पाद का प्रकार, रंग या बजट?",
        "lowest": "ये पहले से हमारे सबसे सस्ते विकल्प थे ({kind}): {price} से कम में कुछ नहीं है।",
        "cheaper": "ये रहे सस्ते विकल्प, सभी पहले दिखाए {price} से कम",
        "pricier": "ये रहे प्रीमियम विकल्प, सभी पहले दिखाए {price} से ऊपर",
        "widened": " (इन्हें ढूंढने के लिए मैंने {fields} की शर्त हटाई):",
        "relaxed": "“{kind}” से पूरी तरह मेल खाता कुछ नहीं मिला, इसलिए मैंने {fields} की शर्त हटाई। सबसे करीबी:",
        "spread": "कीमतें {low} से {high} तक, बीच की कीमत {median}",
        "priced": "कीमत {low}",
        "market_none": "हमारे पास {matching} उत्पाद हैं ({kind}), पर कोई भी आपके बजट में नहीं — {spread}।",
        "market_budget": "हमारे पास {matching} उत्पाद हैं ({kind}); इनमें से {within} आपके बजट में हैं ({in_stock} स्टॉक में) — {spread}।",
        "market": "हमारे पास {matching} उत्पाद हैं ({kind}, {in_stock} स्टॉक में); {spread}।",
        "closest": "स्टॉक में कुछ भी {budget} में नहीं आता; सबसे करीबी **{title}** है, {price} पर, {over} ज़्यादा।",
        "pick": "मेरी पसंद: **{title}** — {reasons}।",
        "rated": "रेटिंग {rating}/5",
        "under_budget": "आपके बजट से {left} कम",
        "at_budget": "ठीक आपके बजट पर",
        "made_for": "{occasion} के लिए बना",
        "up_to": "{price} तक",
        "from": "{price} से",
        "between": "{low} से {high} के बीच",
        "size": "साइज़ {sizes}",
        "greeting": "नमस्ते{name}! मैं इस स्टोर का शॉपिंग असिस्टेंट हूं। {capabilities}",
        "what": "आप क्या खरीदना चाहते हैं?",
        "capabilities": "मैं प्रकार, रंग, साइज़, मौके और बजट से उत्पाद ढूंढ सकता हूं, उनकी तुलना कर सकता हूं, "
                        "और बता सकता हूं कि वे किन साइज़ में हैं और स्टॉक में हैं या नहीं।",
        "out_of_scope": "इसमें मैं यहां मदद नहीं कर सकता — मैं स्टोर का शॉपिंग असिस्टेंट हूं।",
        "order": "मैं ऑर्डर नहीं देख सकता: इस असिस्टेंट के पास ऑर्डर, पेमेंट या डिलीवरी का डेटा नहीं है। "
                 "आपके ऑर्डर कन्फर्मेशन ईमेल या अकाउंट के Orders पेज पर ट्रैकिंग दिखती है, और बाकी में स्टोर की सपोर्ट टीम मदद कर सकती है।",
        "returns": "मेरे दस्तावेज़ों में स्टोर की रिटर्न या एक्सचेंज पॉलिसी नहीं है, इसलिए मैं उसे बता नहीं सकता। "
                   "कृपया साइट का Returns पेज देखें या सपोर्ट टीम से पूछें।",
        "handoff": "मैं इस चैट से आपको किसी व्यक्ति से नहीं जोड़ सकता: इसके पीछे कोई लाइव एजेंट नहीं है। "
                   "स्टोर की सपोर्ट टीम साइट के Contact पेज से मिलती है।",
        "no_discount": "हमारे कैटलॉग डेटा में मुझे कोई छूट, सेल या कूपन नहीं दिखता, इसलिए मैं वादा नहीं करूंगा: "
                       "यहां की कीमतें ही मौजूदा कीमतें हैं।",
    },
    "fa": {
        "only_one": "تا حالا فقط یک محصول نشانتان داده\u200cام، **{title}**{price}، پس هنوز چیزی برای مقایسه نیست. گزینه\u200cهای بیشتری بخواهید یا محصول دیگری را نام ببرید تا مقایسه\u200cشان کنم.",
        "which_two": "کدام دو را مقایسه کنم؟ اول چند محصول بخواهید، بعد بگویید «دو تای اول را مقایسه کن».",
        "comparing": "مقایسه **{a}** و **{b}**:",
        "c_price": "قیمت",
        "c_rating": "امتیاز",
        "c_brand": "برند",
        "c_fabric": "جنس",
        "c_occasion": "مناسبت",
        "c_sizes": "سایزها",
        "c_stock": "موجودی",
        "cheaper_by": "{which} {gap} ارزان\u200cتر است",
        "ordinal": "اولی|دومی|سومی|چهارمی",
        "in_short": "خلاصه: {verdict}.",
        "wins_price": "از نظر قیمت {which} بهتر است",
        "wins_rating": "از نظر امتیاز {which}",
        "comes_in": "**{title}** در این سایزها هست: {sizes}، و {stock}.",
        "listed_in": "بله — **{title}** در سایز {size} هست، و {stock}.",
        "not_listed": "**{title}** در سایز {size} نیست؛ سایزهایش: {sizes}.",
        "no_sizes": "بدون سایز",
        "in_stock": "موجود است",
        "out_of_stock": "فعلاً ناموجود است",
        "per_size": "می\u200cبینم هر محصول در چه سایزهایی است و موجود است یا نه، اما نمی\u200cبینم از هر سایز چند عدد مانده.",
        "no_chart": "جدول سایز این\u200cها در اسناد من نیست.",
        "which_product": "منظورتان کدام محصول است؟ اول چیزی بخواهید تا بگویم در چه سایزهایی هست.",
        "stock_state": "**{title}** {stock}{sizes}.",
        "stock_sizes": " (سایزهای {sizes})",
        "flag_only": "فقط علامت موجودی را می\u200cبینم — نه تعداد و نه تاریخ ارسال.",
        "flag_sizes": "علامت موجودی و سایزهای محصول را می\u200cبینم — نه تعداد هر سایز.",
        "colours": "رنگ\u200cها",
        "clarify": "مطمئن نیستم دنبال چه هستید. دنبال محصولی هستید (نوع، رنگ، سایز یا بودجه را بگویید)، "
                   "می‌خواهید کالاها را مقایسه کنید، یا سؤالتان درباره سفارش یا مرجوعی است؟",
        "lead_best": "{total} محصول پیدا کردم ({kind})؛ این {shown} مورد بهترین‌ها هستند:",
        "lead_one": "فقط یک محصول پیدا کردم ({kind}):",
        "lead_all": "این {shown} محصول را پیدا کردم ({kind}):",
        "nothing": "در کاتالوگ ما چنین چیزی پیدا نکردم: {kind}.",
        "more": "می‌شود کمی بیشتر بگویید — نوع محصول، رنگ یا بودجه؟",
        "lowest": "این‌ها ارزان‌ترین گزینه‌های ما بودند ({kind}): زیر {price} چیزی نیست.",
        "cheaper": "این‌ها گزینه‌های ارزان‌ترند، همه زیر {price} که قبلاً نشان دادم",
        "pricier": "این‌ها گزینه‌های گران‌ترند، همه بالای {price} که قبلاً نشان دادم",
        "widened": " (برای پیدا کردنشان شرط {fields} را برداشتم):",
        "relaxed": "چیزی با همه شرط‌های «{kind}» جور نبود، پس شرط {fields} را برداشتم. نزدیک‌ترین‌ها:",
        "spread": "قیمت‌ها از {low} تا {high}، میانه {median}",
        "priced": "قیمت {low}",
        "market_none": "{matching} محصول داریم ({kind})، اما هیچ‌کدام در بودجه شما نیست — {spread}.",
        "market_budget": "{matching} محصول داریم ({kind})؛ {within} مورد در بودجه شماست ({in_stock} مورد موجود) — {spread}.",
        "market": "{matching} محصول داریم ({kind}، {in_stock} مورد موجود)؛ {spread}.",
        "closest": "هیچ کالای موجودی در {budget} نیست؛ نزدیک‌ترین **{title}** است با قیمت {price}، {over} بیشتر.",
        "pick": "پیشنهاد من: **{title}** — {reasons}.",
        "rated": "امتیاز {rating} از ۵",
        "under_budget": "{left} کمتر از بودجه شما",
        "at_budget": "درست به اندازه بودجه شما",
        "made_for": "مناسب {occasion}",
        "up_to": "تا {price}",
        "from": "از {price}",
        "between": "بین {low} و {high}",
        "size": "سایز {sizes}",
        "greeting": "سلام{name}! من دستیار خرید این فروشگاه هستم. {capabilities}",
        "what": "دنبال چه می‌گردید؟",
        "capabilities": "می‌توانم محصولات را بر اساس نوع، رنگ، سایز، مناسبت و بودجه پیدا کنم، آن‌ها را با هم مقایسه کنم "
                        "و بگویم در چه سایزهایی هستند و موجودند یا نه.",
        "out_of_scope": "در این مورد اینجا نمی‌توانم کمکی کنم — من دستیار خرید فروشگاه هستم.",
        "order": "من به سفارش‌ها دسترسی ندارم: این دستیار اطلاعات سفارش، پرداخت یا ارسال را نمی‌بیند. "
                 "وضعیت ارسال در ایمیل تأیید سفارش یا صفحه Orders حساب شما هست و تیم پشتیبانی فروشگاه در بقیه موارد کمک می‌کند.",
        "returns": "شرایط مرجوعی یا تعویض فروشگاه در اسناد من نیست، پس نمی‌توانم نقلش کنم. "
                   "لطفاً صفحه Returns سایت را ببینید یا از تیم پشتیبانی بپرسید.",
        "handoff": "از این گفتگو نمی‌توانم شما را به یک شخص وصل کنم: پشت آن اپراتور زنده‌ای نیست. "
                   "تیم پشتیبانی فروشگاه از صفحه Contact سایت در دسترس است.",
        "no_discount": "در داده‌های کاتالوگ ما تخفیف، حراج یا کوپنی نمی‌بینم، پس قولی نمی‌دهم: "
                       "قیمت‌های اینجا قیمت‌های فعلی هستند.",
    },
    "ru": {
        "only_one": "Пока я показал вам только один товар, **{title}**{price}, так что сравнивать его не с чем. Попросите больше вариантов или назовите другой товар, и я их сравню.",
        "which_two": "Какие два сравнить? Сначала попросите товары, потом скажите «сравни первые два».",
        "comparing": "Сравниваю **{a}** и **{b}**:",
        "c_price": "Цена",
        "c_rating": "Оценка",
        "c_brand": "Бренд",
        "c_fabric": "Ткань",
        "c_occasion": "Повод",
        "c_sizes": "Размеры",
        "c_stock": "Наличие",
        "cheaper_by": "{which} дешевле на {gap}",
        "ordinal": "первый|второй|третий|четвёртый",
        "in_short": "Коротко: {verdict}.",
        "wins_price": "по цене выигрывает {which}",
        "wins_rating": "по оценкам — {which}",
        "comes_in": "**{title}** есть в размерах {sizes}, и он {stock}.",
        "listed_in": "Да — **{title}** есть в размере {size}, и он {stock}.",
        "not_listed": "**{title}** нет в размере {size}; есть размеры {sizes}.",
        "no_sizes": "размеры не указаны",
        "in_stock": "в наличии",
        "out_of_stock": "сейчас не в наличии",
        "per_size": "Я вижу, в каких размерах есть каждый товар и есть ли он в наличии, но не сколько осталось каждого размера.",
        "no_chart": "Таблицы размеров для них в моих документах нет.",
        "which_product": "О каком товаре речь? Сначала попросите что-нибудь, и я скажу, в каких размерах оно есть.",
        "stock_state": "**{title}** {stock}{sizes}.",
        "stock_sizes": " (размеры {sizes})",
        "flag_only": "Я вижу только отметку о наличии — не количество и не сроки доставки.",
        "flag_sizes": "Я вижу отметку о наличии и размеры товара — не количество каждого размера.",
        "colours": "цвета",
        "clarify": "Не совсем понимаю, что вы ищете. Вы ищете товар (назовите вид, цвет, размер или бюджет), "
                   "сравниваете товары или спрашиваете о заказе или возврате?",
        "lead_best": "Я нашёл товаров: {total} ({kind}); вот лучшие {shown}:",
        "lead_one": "Я нашёл только один товар ({kind}):",
        "lead_all": "Вот товары, которые я нашёл ({kind}), — {shown}:",
        "nothing": "В нашем каталоге я не нашёл: {kind}.",
        "more": "Расскажите чуть подробнее — вид товара, цвет или бюджет?",
        "lowest": "Это уже были самые недорогие варианты ({kind}): дешевле {price} ничего нет.",
        "cheaper": "Вот варианты дешевле, все дешевле {price}, что я показал раньше",
        "pricier": "Вот варианты подороже, все дороже {price}, что я показал раньше",
        "widened": " (чтобы их найти, я снял условие: {fields}):",
        "relaxed": "Ничего не подходит под все условия «{kind}», поэтому я снял условие: {fields}. Ближайшие:",
        "spread": "цены от {low} до {high}, медиана {median}",
        "priced": "цена {low}",
        "market_none": "У нас есть товаров: {matching} ({kind}), но ни один не укладывается в ваш бюджет — {spread}.",
        "market_budget": "У нас есть товаров: {matching} ({kind}); в ваш бюджет укладываются {within} ({in_stock} в наличии) — {spread}.",
        "market": "У нас есть товаров: {matching} ({kind}, {in_stock} в наличии); {spread}.",
        "closest": "Ничего в наличии не укладывается в {budget}; ближе всего **{title}** за {price}, на {over} дороже.",
        "pick": "Мой выбор: **{title}** — {reasons}.",
        "rated": "оценка {rating}/5",
        "under_budget": "на {left} дешевле вашего бюджета",
        "at_budget": "ровно в ваш бюджет",
        "made_for": "для случая: {occasion}",
        "up_to": "до {price}",
        "from": "от {price}",
        "between": "от {low} до {high}",
        "size": "размер {sizes}",
        "greeting": "Здравствуйте{name}! Я помощник магазина по покупкам. {capabilities}",
        "what": "Что вы ищете?",
        "capabilities": "Я могу подобрать товары по виду, цвету, размеру, поводу и бюджету, сравнить их "
                        "и сказать, в каких размерах они есть и есть ли они в наличии.",
        "out_of_scope": "С этим я здесь не помогу — я помощник магазина по покупкам.",
        "order": "Я не вижу заказы: у этого помощника нет доступа к данным о заказах, оплате и доставке. "
                 "Статус доставки есть в письме с подтверждением заказа или на странице Orders вашего аккаунта, "
                 "а с остальным поможет служба поддержки магазина.",
        "returns": "В моих документах нет условий возврата и обмена этого магазина, поэтому я не могу их привести. "
                   "Посмотрите страницу Returns на сайте или спросите службу поддержки.",
        "handoff": "Из этого чата я не могу соединить вас с человеком: за ним нет живых операторов. "
                   "Со службой поддержки магазина можно связаться через страницу Contact на сайте.",
        "no_discount": "В данных каталога я не вижу ни скидок, ни распродаж, ни купонов, поэтому ничего не обещаю: "
                       "здесь указаны текущие цены.",
    },
    "he": {
        "only_one": "עד עכשיו הראיתי לך רק מוצר אחד, **{title}**{price}, אז עוד אין למה להשוות אותו. בקשו עוד אפשרויות או ציינו מוצר אחר, ואשווה ביניהם.",
        "which_two": "את אילו שניים להשוות? בקשו קודם כמה מוצרים, ואז אמרו „תשווה בין שני הראשונים”.",
        "comparing": "השוואה בין **{a}** לבין **{b}**:",
        "c_price": "מחיר",
        "c_rating": "דירוג",
        "c_brand": "מותג",
        "c_fabric": "בד",
        "c_occasion": "אירוע",
        "c_sizes": "מידות",
        "c_stock": "מלאי",
        "cheaper_by": "ה{which} זול ב-{gap}",
        "ordinal": "ראשון|שני|שלישי|רביעי",
        "in_short": "בקצרה: {verdict}.",
        "wins_price": "במחיר מנצח ה{which}",
        "wins_rating": "בדירוג — ה{which}",
        "comes_in": "**{title}** מגיע במידות {sizes}, והוא {stock}.",
        "listed_in": "כן — **{title}** קיים במידה {size}, והוא {stock}.",
        "not_listed": "**{title}** לא קיים במידה {size}; הוא מגיע במידות {sizes}.",
        "no_sizes": "ללא מידות",
        "in_stock": "במלאי",
        "out_of_stock": "אזל כרגע מהמלאי",
        "per_size": "אני רואה באילו מידות כל מוצר קיים והאם הוא במלאי, אבל לא כמה יחידות נשארו מכל מידה.",
        "no_chart": "אין לי במסמכים טבלת מידות עבורם.",
        "which_product": "לאיזה מוצר הכוונה? בקשו קודם משהו, ואגיד באילו מידות הוא מגיע.",
        "stock_state": "**{title}** {stock}{sizes}.",
        "stock_sizes": " (מידות {sizes})",
        "flag_only": "אני רואה רק סימון מלאי — לא כמויות ולא תאריכי משלוח.",
        "flag_sizes": "אני רואה סימון מלאי ואת המידות של המוצר — לא כמות לכל מידה.",
        "colours": "צבעים",
        "clarify": "אני לא בטוח מה את/ה מחפש/ת. מחפשים מוצר (ספרו לי סוג, צבע, מידה או תקציב), "
                   "משווים בין פריטים, או שואלים על הזמנה או החזרה?",
        "lead_best": "מצאתי {total} מוצרים ({kind}); הנה {shown} הטובים ביותר:",
        "lead_one": "מצאתי רק מוצר אחד ({kind}):",
        "lead_all": "הנה {shown} המוצרים שמצאתי ({kind}):",
        "nothing": "לא מצאתי בקטלוג שלנו: {kind}.",
        "more": "אפשר לספר לי עוד קצת — סוג המוצר, צבע או תקציב?",
        "lowest": "אלה כבר היו האפשרויות הזולות ביותר שלנו ({kind}): אין כלום מתחת ל-{price}.",
        "cheaper": "הנה אפשרויות זולות יותר, כולן מתחת ל-{price} שהראיתי קודם",
        "pricier": "הנה אפשרויות יוקרתיות יותר, כולן מעל {price} שהראיתי קודם",
        "widened": " (כדי למצוא אותן ויתרתי על {fields}):",
        "relaxed": "שום דבר לא מתאים לכל התנאים של „{kind}”, אז ויתרתי על {fields}. הכי קרובים:",
        "spread": "המחירים מ-{low} עד {high}, חציון {median}",
        "priced": "מחיר {low}",
        "market_none": "יש לנו {matching} מוצרים ({kind}), אבל אף אחד מהם לא בתקציב שלך — {spread}.",
        "market_budget": "יש לנו {matching} מוצרים ({kind}); {within} מהם בתקציב שלך ({in_stock} במלאי) — {spread}.",
        "market": "יש לנו {matching} מוצרים ({kind}, {in_stock} במלאי); {spread}.",
        "closest": "שום פריט במלאי לא נכנס ב-{budget}; הכי קרוב הוא **{title}** ב-{price}, {over} מעל.",
        "pick": "הבחירה שלי: **{title}** — {reasons}.",
        "rated": "דירוג {rating}/5",
        "under_budget": "{left} מתחת לתקציב שלך",
        "at_budget": "בדיוק בתקציב שלך",
        "made_for": "מתאים ל-{occasion}",
        "up_to": "עד {price}",
        "from": "מ-{price}",
        "between": "בין {low} ל-{high}",
        "size": "מידה {sizes}",
        "greeting": "שלום{name}! אני עוזר הקניות של החנות. {capabilities}",
        "what": "מה אתם מחפשים?",
        "capabilities": "אני יכול למצוא מוצרים לפי סוג, צבע, מידה, אירוע ותקציב, להשוות ביניהם "
                        "ולומר באילו מידות הם מגיעים והאם הם במלאי.",
        "out_of_scope": "בזה אני לא יכול לעזור כאן — אני עוזר הקניות של החנות.",
        "order": "אני לא יכול לבדוק הזמנות: לעוזר הזה אין גישה לנתוני הזמנות, תשלומים או משלוחים. "
                 "סטטוס המשלוח מופיע במייל אישור ההזמנה או בדף Orders בחשבון, וצוות התמיכה של החנות יעזור בכל השאר.",
        "returns": "אין לי במסמכים את מדיניות ההחזרות וההחלפות של החנות, אז אני לא יכול לצטט אותה. "
                   "כדאי לבדוק את דף Returns באתר או לשאול את צוות התמיכה.",
        "handoff": "אני לא יכול לחבר אותך לאדם מהצ'אט הזה: אין מאחוריו נציגים חיים. "
                   "צוות התמיכה של החנות זמין דרך דף Contact באתר.",
        "no_discount": "אני לא רואה בנתוני הקטלוג שלנו הנחה, מבצע או קופון, אז לא אבטיח: "
                       "המחירים כאן הם המחירים הנוכחיים.",
    },
}

FIELDS: dict[str, dict[str, str]] = {  # the constraints reply.py says it widened
    "hi": {"work": "काम", "pattern": "पैटर्न", "occasion": "मौके", "fabric": "कपड़े", "brand": "ब्रांड", "sizes": "साइज़", "gender": "जेंडर",
           "colors": "रंग", "min_price": "न्यूनतम कीमत", "category": "प्रकार"},
    "fa": {"work": "کار", "pattern": "طرح", "occasion": "مناسبت", "fabric": "جنس", "brand": "برند", "sizes": "سایز", "gender": "جنسیت",
           "colors": "رنگ", "min_price": "حداقل قیمت", "category": "نوع"},
    "ru": {"work": "отделка", "pattern": "узор", "occasion": "повод", "fabric": "ткань", "brand": "бренд", "sizes": "размер", "gender": "пол",
           "colors": "цвет", "min_price": "минимальная цена", "category": "вид"},
    "he": {"work": "עבודה", "pattern": "דוגמה", "occasion": "אירוע", "fabric": "בד", "brand": "מותג", "sizes": "מידה", "gender": "מגדר",
           "colors": "צבע", "min_price": "מחיר מינימום", "category": "סוג"},
}
_AND = {"hi": " और ", "fa": " و ", "ru": " и ", "he": " ו"}

# The suggestions under an answer, by their English text: each reads back, when sent, as the
# English one does (tests/agent/test_languages.py sends them through the reading).
SUGGESTIONS: dict[str, dict[str, str]] = {
    "hi": {
        "Show me wedding lehengas under 20k": "शादी के लिए 20000 तक के लहंगे दिखाओ",
        "Compare the first two": "पहले दो की तुलना करो",
        "What is your returns policy?": "आपकी रिटर्न पॉलिसी क्या है?",
        "Show me cheaper ones": "सस्ते विकल्प दिखाइए",
        "In {color}": "{color} रंग में",
        "Is the first one available in size {size}?": "क्या पहला वाला साइज़ {size} में मिलेगा?",
        "Which one is in stock?": "कौन सा स्टॉक में है?",
        "Is it in stock?": "क्या यह स्टॉक में है?",
        "Show me party wear dresses": "पार्टी के लिए ड्रेस दिखाओ",
        "Red silk sarees under 10k": "लाल सिल्क साड़ी 10000 तक",
        "Talk to a person": "किसी इंसान से बात करनी है",
    },
    "fa": {
        "Show me wedding lehengas under 20k": "لباس عروسی زیر ۲۰ هزار نشان بده",
        "Compare the first two": "دو تای اول را مقایسه کن",
        "What is your returns policy?": "شرایط مرجوعی شما چیست؟",
        "Show me cheaper ones": "گزینه‌های ارزان‌تر را نشان بده",
        "In {color}": "به رنگ {color}",
        "Is the first one available in size {size}?": "اولی در سایز {size} موجود است؟",
        "Which one is in stock?": "کدام موجود است؟",
        "Is it in stock?": "موجود است؟",
        "Show me party wear dresses": "لباس مهمانی نشان بده",
        "Red silk sarees under 10k": "ساری ابریشمی قرمز زیر ۱۰ هزار",
        "Talk to a person": "می‌خواهم با یک انسان صحبت کنم",
    },
    "ru": {
        "Show me wedding lehengas under 20k": "Покажи свадебные наряды до 20 000",
        "Compare the first two": "Сравни первые два",
        "What is your returns policy?": "Какие у вас условия возврата?",
        "Show me cheaper ones": "Покажи варианты дешевле",
        "In {color}": "В цвете {color}",
        "Is the first one available in size {size}?": "Есть первое в размере {size}?",
        "Which one is in stock?": "Какой из них в наличии?",
        "Is it in stock?": "Это есть в наличии?",
        "Show me party wear dresses": "Покажи платья для вечеринки",
        "Red silk sarees under 10k": "Красное шёлковое сари до 10 000",
        "Talk to a person": "Хочу поговорить с человеком",
    },
    "he": {
        "Show me wedding lehengas under 20k": "הראה לי בגדים לחתונה עד 20000",
        "Compare the first two": "תשווה בין שני הראשונים",
        "What is your returns policy?": "מה מדיניות ההחזרות שלכם?",
        "Show me cheaper ones": "הראה לי אפשרויות זולות יותר",
        "In {color}": "בצבע {color}",
        "Is the first one available in size {size}?": "יש את הראשון במידה {size}?",
        "Which one is in stock?": "איזה מהם במלאי?",
        "Is it in stock?": "זה במלאי?",
        "Show me party wear dresses": "הראה לי שמלות למסיבה",
        "Red silk sarees under 10k": "סארי משי אדום עד 10000",
        "Talk to a person": "אני רוצה לדבר עם נציג",
    },
}


def suggestion(language: str, english: str, **values: object) -> str:
    """A suggestion in `language`, by its English text (English, or not translated: as given)."""
    return SUGGESTIONS.get(language, {}).get(english, english).format(**values)


def say(language: str, key: str, **values: object) -> str:
    """One sentence of the agent in `language` (one of WORDING's), its values filled in."""
    return WORDING[language][key].format(**values)


def fields(language: str, names: list[str]) -> str:
    """The widened constraints named in `language`: "रंग और साइज़"."""
    named = [FIELDS[language].get(n, n) for n in names]
    return _AND[language].join(named) if len(named) <= 2 else ", ".join(named[:-1]) + _AND[language] + named[-1]


def brief(language: str, filters: Filters) -> str:
    """What was asked, short, in the catalog's own words: "saree · red · silk, ₹5,000 तक"."""
    words = [filters.category or "", "/".join(filters.colors), filters.fabric or "", filters.occasion or "",
             filters.brand or "", filters.gender if filters.gender not in (None, "unisex") else ""]
    out = " · ".join(w for w in words if w)
    bounds = []
    if filters.sizes:
        bounds.append(say(language, "size", sizes=", ".join(filters.sizes)))
    if filters.min_price is not None and filters.max_price is not None:
        bounds.append(say(language, "between", low=inr(filters.min_price), high=inr(filters.max_price)))
    elif filters.max_price is not None:
        bounds.append(say(language, "up_to", price=inr(filters.max_price)))
    elif filters.min_price is not None:
        bounds.append(say(language, "from", price=inr(filters.min_price)))
    return ", ".join(p for p in (out, *bounds) if p) or "—"
