"""Demo content for a first look at the app (`manage.py seed_demo`): one campaign of everyday
questions in nine languages, most of them translations of one another, each answered by two to
four demo models of visibly different quality; three demo annotators; and rankings for about a
third of the tasks, leaving the rest open for real annotators.

Everything is built through the catalog and assignment services, so the usual business rules
apply. Rankings are written as model letters ("a > b = c": a best, b and c tied) and turned into
response positions in stored order when submitted."""

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from webapp.feedback.models import Campaign, Task
from webapp.feedback.services.assignment import annotation_submit
from webapp.feedback.services.catalog import (
    annotator_set_languages,
    campaign_create,
    prompt_create,
    response_create,
    task_create,
)
from webapp.permissions import ANNOTATOR, role_group

CAMPAIGN_NAME = "Demo: helpful answers"
SOURCE = "demo"
LANGUAGES = ["en", "de", "fr", "es", "ar", "zh-Hans", "ja", "hi", "sw"]


def _md(*lines: str) -> str:
    return "\n".join(lines)


GUIDELINES = _md(
    "# Ranking the demo answers",
    "",
    "Read the question, then every answer, and rank the answers from best to worst.",
    "",
    "- **Helpfulness**: does the answer do what the person asked, with enough detail to act on?",
    "- **Correctness**: facts, numbers and code must be right. A confident wrong answer is worse"
    " than a short correct one.",
    "- **Language**: the answer should be in the language of the question, natural and easy to read.",
    "- **Ties are allowed**: put answers of the same quality in the same rank.",
    "- **Flags**: mark *wrong language* when an answer is not in the question's language, *unsafe* for"
    " harmful advice, and *all bad* when no answer is acceptable.",
    "- Add a short rationale when your choice is not obvious.",
)

# username -> languages; every demo language is read by at least two annotators.
ANNOTATORS = {
    "demo-annotator-1": ["en", "de", "fr", "es", "ar", "sw"],
    "demo-annotator-2": ["en", "fr", "ar", "zh-Hans", "ja", "hi"],
    "demo-annotator-3": ["en", "de", "es", "zh-Hans", "ja", "hi", "sw"],
}


@dataclass(frozen=True)
class DemoPrompt:
    """A prompt and its responses as (model letter, Markdown text), in stored order."""

    group: str
    language: str
    text: str
    responses: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return f"{self.group or 'solo'}:{self.language}"


@dataclass(frozen=True)
class DemoAnnotation:
    key: str
    annotator: str
    ranking: str
    flags: list[str] = field(default_factory=list)
    rationale: str = ""


MODEL_PREFIX = "demo-model-"


def model_name(letter: str) -> str:
    return MODEL_PREFIX + letter


# English answers, reused as wrong-language answers to some translations.
EN_RICE = _md(
    "1. Rinse 1 cup of rice in cold water until the water runs almost clear.",
    "2. Put it in a pot with 1½ cups of water and a pinch of salt.",
    "3. Bring to a boil, then cover and simmer on low heat for 15 minutes.",
    "4. Turn off the heat and let it rest, covered, for 10 minutes. Fluff with a fork and serve.",
)
EN_SKY = (
    "Sunlight contains all colours. When it passes through the atmosphere, it hits gas molecules, which "
    "scatter short wavelengths (blue and violet) much more strongly than long ones (red). This is called "
    "**Rayleigh scattering**. The scattered blue light reaches our eyes from every direction, so the whole "
    "sky looks blue. We see blue rather than violet because the Sun emits less violet light and our eyes "
    "are more sensitive to blue."
)
EN_PACK = _md(
    "- Layers: a base layer, a warm fleece and a waterproof jacket — mountain weather changes fast.",
    "- Sturdy, broken-in hiking boots and wool socks.",
    "- Water (at least 2 litres per day) and high-energy snacks.",
    "- A map or offline map app, a charged phone and a small power bank.",
    "- Sun protection: hat, sunglasses, sunscreen.",
    "- A small first-aid kit and a headlamp.",
)

RICE = [
    DemoPrompt(
        "demo-g1",
        "en",
        "How do I cook white rice on the stove?",
        (
            ("b", "Boil rice in water until it is soft."),
            ("a", EN_RICE),
            ("c", "Rice is a staple food for more than half of the world's population and is grown mainly in Asia."),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "de",
        "Wie koche ich weißen Reis im Topf?",
        (
            (
                "a",
                _md(
                    "1. Spüle 1 Tasse Reis mit kaltem Wasser ab, bis das Wasser fast klar ist.",
                    "2. Gib ihn mit 1½ Tassen Wasser und einer Prise Salz in einen Topf.",
                    "3. Einmal aufkochen lassen, dann den Deckel auflegen und bei schwacher Hitze 15 Minuten köcheln.",
                    "4. Vom Herd nehmen und zugedeckt 10 Minuten ruhen lassen. Mit einer Gabel auflockern.",
                ),
            ),
            ("c", EN_RICE),
            ("b", "Reis in Wasser kochen, bis er weich ist."),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "fr",
        "Comment faire cuire du riz blanc à la casserole ?",
        (
            ("b", "Faites bouillir le riz dans beaucoup d'eau pendant longtemps."),
            (
                "a",
                _md(
                    "1. Rincez 1 tasse de riz à l'eau froide jusqu'à ce que l'eau soit presque claire.",
                    "2. Mettez-le dans une casserole avec 1 tasse ½ d'eau et une pincée de sel.",
                    "3. Portez à ébullition, puis couvrez et laissez cuire à feu doux pendant 15 minutes.",
                    "4. Éteignez le feu et laissez reposer 10 minutes à couvert. Égrenez à la fourchette.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "es",
        "¿Cómo cocino arroz blanco en una olla?",
        (
            (
                "a",
                _md(
                    "1. Enjuaga 1 taza de arroz con agua fría hasta que el agua salga casi transparente.",
                    "2. Ponlo en una olla con 1½ tazas de agua y una pizca de sal.",
                    "3. Llévalo a ebullición, tapa la olla y cocina a fuego bajo durante 15 minutos.",
                    "4. Apaga el fuego y déjalo reposar tapado 10 minutos. Suéltalo con un tenedor.",
                ),
            ),
            ("b", "Hierve el arroz en agua hasta que esté blando."),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "ar",
        "كيف أطبخ الأرز الأبيض في القدر؟",
        (
            ("c", EN_RICE),
            (
                "a",
                _md(
                    "1. اغسل كوبًا من الأرز بالماء البارد حتى يصبح الماء صافيًا تقريبًا.",
                    "2. ضعه في قدر مع كوب ونصف من الماء ورشة ملح.",
                    "3. اتركه حتى يغلي، ثم غطِّ القدر واطبخه على نار هادئة لمدة 15 دقيقة.",
                    "4. أطفئ النار واتركه مغطى لمدة 10 دقائق، ثم قلّبه بالشوكة وقدّمه.",
                ),
            ),
            ("b", "اغلِ الأرز في الماء حتى ينضج."),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "zh-Hans",
        "怎么用锅煮白米饭？",
        (
            ("b", "把米放水里煮熟就行。"),
            (
                "a",
                _md(
                    "1. 用冷水淘洗一杯大米，直到水基本变清。",
                    "2. 把米放进锅里，加一杯半的水。",
                    "3. 大火煮开后盖上锅盖，转小火煮 15 分钟。",
                    "4. 关火后继续盖着焖 10 分钟，再用饭勺把米饭拌松即可。",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "ja",
        "鍋で白いご飯を炊くにはどうすればいいですか？",
        (
            (
                "a",
                _md(
                    "1. お米1合を水で2〜3回とぎ、ざるにあげます。",
                    "2. 鍋にお米と水200mlを入れ、30分ほど浸水させます。",
                    "3. ふたをして中火にかけ、沸騰したら弱火にして12分加熱します。",
                    "4. 火を止めて、ふたをしたまま10分蒸らし、しゃもじでさっくり混ぜます。",
                ),
            ),
            ("b", "お米を水で煮てください。"),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "hi",
        "चूल्हे पर सफ़ेद चावल कैसे पकाएँ?",
        (
            ("b", "चावल को पानी में उबाल लें।"),
            (
                "a",
                _md(
                    "1. एक कप चावल को ठंडे पानी से तब तक धोएँ जब तक पानी लगभग साफ़ न हो जाए।",
                    "2. चावल को एक पतीले में डेढ़ कप पानी और एक चुटकी नमक के साथ डालें।",
                    "3. उबाल आने दें, फिर ढक्कन लगाकर धीमी आँच पर 15 मिनट पकाएँ।",
                    "4. आँच बंद करके 10 मिनट ढका रहने दें, फिर कांटे से हल्का-सा चलाकर परोसें।",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g1",
        "sw",
        "Nawezaje kupika wali mweupe kwenye sufuria?",
        (
            (
                "a",
                _md(
                    "1. Osha kikombe kimoja cha mchele kwa maji baridi hadi maji yawe karibu safi.",
                    "2. Weka mchele kwenye sufuria pamoja na kikombe kimoja na nusu cha maji na chumvi kidogo.",
                    "3. Acha maji yachemke, kisha funika na upike kwa moto mdogo kwa dakika 15.",
                    "4. Zima moto na uache wali umefunikwa kwa dakika 10 kabla ya kupakua.",
                ),
            ),
            ("b", "Chemsha mchele kwenye maji hadi uive."),
        ),
    ),
]

SKY = [
    DemoPrompt(
        "demo-g2",
        "en",
        "Why is the sky blue?",
        (
            ("c", "Because of light scattering."),
            ("a", EN_SKY),
            ("b", "Because it reflects the colour of the ocean."),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "de",
        "Warum ist der Himmel blau?",
        (
            (
                "a",
                "Sonnenlicht enthält alle Farben. Auf dem Weg durch die Atmosphäre trifft es auf Gasmoleküle, die "
                "kurzwelliges Licht (Blau und Violett) viel stärker streuen als langwelliges (Rot). Das nennt man "
                "**Rayleigh-Streuung**. Das gestreute blaue Licht erreicht uns aus allen Richtungen, deshalb "
                "erscheint der ganze Himmel blau.",
            ),
            ("b", "Weil sich das Meer im Himmel spiegelt."),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "fr",
        "Pourquoi le ciel est-il bleu ?",
        (
            ("b", "Parce que c'est la couleur de l'air."),
            (
                "a",
                "La lumière du Soleil contient toutes les couleurs. En traversant l'atmosphère, elle rencontre des "
                "molécules de gaz qui diffusent bien plus les courtes longueurs d'onde (le bleu et le violet) que les "
                "longues (le rouge) : c'est la **diffusion de Rayleigh**. Cette lumière bleue diffusée nous arrive "
                "de toutes les directions, et le ciel entier paraît donc bleu.",
            ),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "es",
        "¿Por qué el cielo es azul?",
        (
            (
                "a",
                "La luz del Sol contiene todos los colores. Al atravesar la atmósfera, choca con las moléculas del "
                "aire, que dispersan mucho más las longitudes de onda cortas (azul y violeta) que las largas (rojo). "
                "Es la **dispersión de Rayleigh**. Esa luz azul dispersada nos llega desde todas las direcciones; "
                "por eso todo el cielo se ve azul.",
            ),
            ("c", "El arcoíris tiene siete colores: rojo, naranja, amarillo, verde, azul, añil y violeta."),
            ("b", "Porque refleja el color del mar."),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "ar",
        "لماذا السماء زرقاء؟",
        (
            ("b", "لأنها تعكس لون البحر."),
            (
                "a",
                "يحتوي ضوء الشمس على جميع الألوان. وعندما يمر عبر الغلاف الجوي يصطدم بجزيئات الغاز التي تشتت "
                "الأطوال الموجية القصيرة (الأزرق والبنفسجي) أكثر بكثير من الطويلة (الأحمر)، وتُسمّى هذه الظاهرة "
                "**تشتت رايلي**. يصل إلينا الضوء الأزرق المشتت من كل الاتجاهات، لذلك تبدو السماء كلها زرقاء.",
            ),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "zh-Hans",
        "为什么天空是蓝色的？",
        (
            (
                "a",
                "太阳光包含各种颜色。阳光穿过大气层时会与气体分子碰撞，"
                "波长较短的蓝光和紫光比波长较长的红光更容易被散射，这叫做**瑞利散射**。"
                "被散射的蓝光从四面八方进入我们的眼睛，所以整个天空看起来是蓝色的。",
            ),
            ("b", "因为天空反射了大海的颜色。"),
            ("c", EN_SKY),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "ja",
        "空はなぜ青いのですか？",
        (
            ("b", "海の色が映っているからです。"),
            (
                "a",
                "太陽の光にはすべての色が含まれています。光が大気を通るとき空気の分子にぶつかり、"
                "波長の短い青や紫の光は、波長の長い赤い光よりもずっと強く散乱されます。"
                "これを**レイリー散乱**といいます。散乱された青い光があらゆる方向から目に届くため、"
                "空全体が青く見えるのです。",
            ),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "hi",
        "आसमान नीला क्यों होता है?",
        (
            (
                "a",
                "सूरज की रोशनी में सभी रंग होते हैं। जब यह वायुमंडल से गुज़रती है, तो हवा के अणु छोटी तरंगदैर्ध्य "
                "वाली नीली और बैंगनी रोशनी को लंबी तरंगदैर्ध्य वाली लाल रोशनी की तुलना में कहीं ज़्यादा बिखेरते हैं। "
                "इसे **रेले प्रकीर्णन** कहते हैं। बिखरी हुई नीली रोशनी हर दिशा से हमारी आँखों तक पहुँचती है, "
                "इसलिए पूरा आसमान नीला दिखता है।",
            ),
            ("b", "क्योंकि उसमें समुद्र का रंग दिखता है।"),
        ),
    ),
    DemoPrompt(
        "demo-g2",
        "sw",
        "Kwa nini anga ni la buluu?",
        (
            ("b", "Kwa sababu linaakisi rangi ya bahari."),
            (
                "a",
                "Mwanga wa jua una rangi zote. Unapopita katika angahewa hugonga molekuli za hewa, ambazo "
                "hutawanya mwanga wenye mawimbi mafupi (buluu na zambarau) kwa nguvu zaidi kuliko mwanga wenye "
                "mawimbi marefu (mwekundu). Hali hii huitwa **mtawanyiko wa Rayleigh**. Mwanga wa buluu "
                "uliotawanyika hutufikia kutoka pande zote, ndiyo sababu anga lote huonekana buluu.",
            ),
        ),
    ),
]

PACKING = [
    DemoPrompt(
        "demo-g3",
        "en",
        "What should I pack for a weekend hiking trip in the mountains?",
        (
            ("a", EN_PACK),
            ("b", "Clothes, shoes and some food."),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "de",
        "Was sollte ich für ein Wanderwochenende in den Bergen einpacken?",
        (
            ("b", "Kleidung, Schuhe und etwas zu essen."),
            (
                "a",
                _md(
                    "- Zwiebelprinzip: Funktionsshirt, warme Fleecejacke und eine wasserdichte Regenjacke – das Wetter"
                    " in den Bergen schlägt schnell um.",
                    "- Feste, eingelaufene Wanderschuhe und Wollsocken.",
                    "- Wasser (mindestens 2 Liter pro Tag) und energiereiche Snacks.",
                    "- Karte oder Offline-Karten-App, ein geladenes Handy und eine kleine Powerbank.",
                    "- Sonnenschutz: Mütze, Sonnenbrille, Sonnencreme.",
                    "- Ein kleines Erste-Hilfe-Set und eine Stirnlampe.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "fr",
        "Que dois-je emporter pour un week-end de randonnée en montagne ?",
        (
            (
                "a",
                _md(
                    "- Plusieurs couches : un t-shirt technique, une polaire chaude et une veste imperméable — la météo"
                    " change vite en montagne.",
                    "- De bonnes chaussures de randonnée déjà rodées et des chaussettes en laine.",
                    "- De l'eau (au moins 2 litres par jour) et des en-cas énergétiques.",
                    "- Une carte ou une application de cartes hors ligne, un téléphone chargé et une petite batterie"
                    " externe.",
                    "- Protection solaire : chapeau, lunettes de soleil, crème solaire.",
                    "- Une petite trousse de secours et une lampe frontale.",
                ),
            ),
            ("b", "Des vêtements, des chaussures et de quoi manger."),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "es",
        "¿Qué debo llevar para un fin de semana de senderismo en la montaña?",
        (
            ("b", "Ropa, zapatos y algo de comida."),
            (
                "a",
                _md(
                    "- Ropa por capas: una camiseta técnica, un forro polar y una chaqueta impermeable; el tiempo en la"
                    " montaña cambia rápido.",
                    "- Botas de montaña resistentes y ya usadas, y calcetines de lana.",
                    "- Agua (al menos 2 litros al día) y tentempiés energéticos.",
                    "- Un mapa o una aplicación de mapas sin conexión, el móvil cargado y una batería externa pequeña.",
                    "- Protección solar: gorra, gafas de sol y crema solar.",
                    "- Un botiquín pequeño y una linterna frontal.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "ar",
        "ماذا آخذ معي في رحلة مشي إلى الجبال في عطلة نهاية الأسبوع؟",
        (
            (
                "a",
                _md(
                    "- ملابس على طبقات: قميص خفيف، وسترة صوفية دافئة، وسترة مقاومة للماء، فالطقس في الجبال يتغير بسرعة.",
                    "- حذاء مشي متين اعتدت عليه من قبل، وجوارب صوفية.",
                    "- ماء (لتران على الأقل في اليوم) ووجبات خفيفة غنية بالطاقة.",
                    "- خريطة أو تطبيق خرائط يعمل دون إنترنت، وهاتف مشحون، وشاحن محمول صغير.",
                    "- وقاية من الشمس: قبعة ونظارة شمسية وكريم واقٍ.",
                    "- حقيبة إسعافات أولية صغيرة ومصباح رأس.",
                ),
            ),
            ("b", "ملابس وحذاء وبعض الطعام."),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "zh-Hans",
        "周末去山里徒步，应该带些什么？",
        (
            ("b", "带衣服、鞋子和一些吃的就行。"),
            (
                "a",
                _md(
                    "- 分层穿衣：速干内衣、保暖抓绒衣和防水外套——山里的天气变化很快。",
                    "- 结实且已经穿惯的登山鞋和羊毛袜。",
                    "- 饮用水（每天至少 2 升）和高能量零食。",
                    "- 地图或离线地图应用、充满电的手机和一个小充电宝。",
                    "- 防晒用品：帽子、太阳镜、防晒霜。",
                    "- 一个小急救包和一盏头灯。",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "ja",
        "週末に山へハイキングに行きます。何を持っていけばいいですか？",
        (
            (
                "a",
                _md(
                    "- 重ね着できる服：速乾性のインナー、暖かいフリース、防水ジャケット（山の天気は変わりやすいです）。",
                    "- 履き慣れた丈夫な登山靴とウールの靴下。",
                    "- 水（1日2リットル以上）と行動食。",
                    "- 地図かオフライン地図アプリ、充電したスマートフォン、小型のモバイルバッテリー。",
                    "- 日焼け対策：帽子、サングラス、日焼け止め。",
                    "- 小さな救急セットとヘッドランプ。",
                ),
            ),
            ("b", "服と靴と食べ物です。"),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "hi",
        "पहाड़ों में सप्ताहांत की ट्रेकिंग के लिए मुझे क्या-क्या ले जाना चाहिए?",
        (
            ("c", EN_PACK),
            ("b", "कपड़े, जूते और थोड़ा खाना।"),
            (
                "a",
                _md(
                    "- परतों में कपड़े: हल्की अंदरूनी टी-शर्ट, गर्म फ़्लीस और वॉटरप्रूफ़ जैकेट — पहाड़ों में मौसम जल्दी बदलता है।",
                    "- मज़बूत और पहले से पहने हुए ट्रेकिंग जूते, और ऊनी मोज़े।",
                    "- पानी (रोज़ कम से कम 2 लीटर) और ऊर्जा देने वाले स्नैक्स।",
                    "- नक्शा या ऑफ़लाइन मैप ऐप, चार्ज किया हुआ फ़ोन और एक छोटा पावर बैंक।",
                    "- धूप से बचाव: टोपी, धूप का चश्मा, सनस्क्रीन।",
                    "- एक छोटी फ़र्स्ट-एड किट और एक हेडलैंप।",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g3",
        "sw",
        "Nifunge nini kwa safari ya matembezi ya wikendi milimani?",
        (
            ("b", "Nguo, viatu na chakula kidogo."),
            (
                "a",
                _md(
                    "- Nguo za tabaka: shati jepesi, koti la joto la fleece na koti lisilopitisha maji — hali ya hewa"
                    " milimani hubadilika haraka.",
                    "- Viatu imara vya matembezi ambavyo umeshavizoea, na soksi za sufu.",
                    "- Maji (angalau lita 2 kwa siku) na vitafunio vyenye nguvu.",
                    "- Ramani au programu ya ramani inayofanya kazi bila mtandao, simu yenye chaji na power bank ndogo.",
                    "- Kinga dhidi ya jua: kofia, miwani ya jua na mafuta ya kuzuia jua.",
                    "- Kisanduku kidogo cha huduma ya kwanza na tochi ya kichwani.",
                ),
            ),
        ),
    ),
]

SLEEP = [
    DemoPrompt(
        "demo-g4",
        "en",
        "How can I fall asleep faster?",
        (
            ("b", "Try counting sheep."),
            (
                "a",
                _md(
                    "A few habits that help most people:",
                    "",
                    "1. Go to bed and get up at the same time every day, weekends included.",
                    "2. Avoid caffeine after early afternoon and heavy meals late in the evening.",
                    "3. Put screens away 30–60 minutes before bed; read or stretch instead.",
                    "4. Keep the bedroom dark, quiet and cool (around 18 °C).",
                    "5. If you are still awake after about 20 minutes, get up and do something calm until you feel sleepy.",
                    "",
                    "If sleeplessness lasts for weeks, talk to a doctor.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "de",
        "Wie kann ich schneller einschlafen?",
        (
            (
                "a",
                _md(
                    "Ein paar Gewohnheiten, die den meisten helfen:",
                    "",
                    "1. Jeden Tag zur gleichen Zeit ins Bett gehen und aufstehen, auch am Wochenende.",
                    "2. Ab dem frühen Nachmittag kein Koffein und abends keine schweren Mahlzeiten.",
                    "3. Bildschirme 30–60 Minuten vor dem Schlafen weglegen; lieber lesen oder dehnen.",
                    "4. Das Schlafzimmer dunkel, ruhig und kühl halten (etwa 18 °C).",
                    "5. Wenn du nach etwa 20 Minuten noch wach bist, steh auf und mach etwas Ruhiges, bis du müde wirst.",
                    "",
                    "Hält die Schlaflosigkeit wochenlang an, sprich mit deiner Hausärztin oder deinem Hausarzt.",
                ),
            ),
            ("c", "Der Himalaya ist das höchste Gebirge der Welt."),
            ("b", "Zähl Schafe."),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "fr",
        "Comment puis-je m'endormir plus vite ?",
        (
            ("b", "Buvez un grand café juste avant de vous coucher, ça détend."),
            (
                "a",
                _md(
                    "Quelques habitudes qui aident la plupart des gens :",
                    "",
                    "1. Se coucher et se lever à la même heure tous les jours, week-end compris.",
                    "2. Éviter la caféine à partir du début de l'après-midi et les repas copieux le soir.",
                    "3. Ranger les écrans 30 à 60 minutes avant de dormir ; lire ou s'étirer à la place.",
                    "4. Garder la chambre sombre, calme et fraîche (environ 18 °C).",
                    "5. Si vous êtes encore éveillé au bout de 20 minutes, levez-vous et faites quelque chose de calme"
                    " jusqu'à ce que le sommeil vienne.",
                    "",
                    "Si l'insomnie dure plusieurs semaines, parlez-en à un médecin.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "es",
        "¿Cómo puedo dormirme más rápido?",
        (
            (
                "a",
                _md(
                    "Algunos hábitos que ayudan a la mayoría de las personas:",
                    "",
                    "1. Acuéstate y levántate a la misma hora todos los días, también los fines de semana.",
                    "2. Evita la cafeína a partir del mediodía y las comidas pesadas por la noche.",
                    "3. Deja las pantallas entre 30 y 60 minutos antes de dormir; mejor lee o estírate.",
                    "4. Mantén el dormitorio oscuro, silencioso y fresco (unos 18 °C).",
                    "5. Si a los 20 minutos sigues despierto, levántate y haz algo tranquilo hasta que tengas sueño.",
                    "",
                    "Si el insomnio dura semanas, consulta a un médico.",
                ),
            ),
            ("b", "Cuenta ovejas."),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "ar",
        "كيف يمكنني أن أنام بسرعة أكبر؟",
        (
            (
                "a",
                _md(
                    "بعض العادات التي تساعد معظم الناس:",
                    "",
                    "1. نَم واستيقظ في الوقت نفسه كل يوم، حتى في عطلة نهاية الأسبوع.",
                    "2. تجنّب الكافيين بعد الظهر والوجبات الثقيلة في وقت متأخر من المساء.",
                    "3. ابتعد عن الشاشات قبل النوم بثلاثين إلى ستين دقيقة، واقرأ أو مارس تمارين الإطالة بدلًا من ذلك.",
                    "4. اجعل غرفة النوم مظلمة وهادئة وباردة (نحو 18 درجة مئوية).",
                    "5. إذا بقيت مستيقظًا بعد نحو 20 دقيقة، فانهض وافعل شيئًا هادئًا حتى تشعر بالنعاس.",
                    "",
                    "إذا استمر الأرق أسابيع، فاستشر طبيبًا.",
                ),
            ),
            ("b", "عُدَّ الخراف."),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "zh-Hans",
        "怎样才能更快入睡？",
        (
            ("b", "数羊就行了。"),
            (
                "a",
                _md(
                    "下面这些习惯对大多数人都有帮助：",
                    "",
                    "1. 每天在固定的时间睡觉和起床，周末也一样。",
                    "2. 下午以后不喝含咖啡因的饮料，晚上不要吃得太饱。",
                    "3. 睡前 30–60 分钟放下手机等屏幕，可以看书或做些拉伸。",
                    "4. 让卧室保持黑暗、安静、凉爽（18 °C 左右）。",
                    "5. 如果躺了 20 分钟左右还睡不着，就起来做点安静的事，有困意再回到床上。",
                    "",
                    "如果失眠持续好几周，请咨询医生。",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "ja",
        "早く寝つくにはどうすればいいですか？",
        (
            (
                "a",
                _md(
                    "多くの人に効果がある習慣をいくつか紹介します。",
                    "",
                    "1. 週末も含めて、毎日同じ時間に寝て同じ時間に起きる。",
                    "2. 午後以降はカフェインを控え、夜遅くに重い食事をしない。",
                    "3. 寝る30〜60分前にはスマホなどの画面を見るのをやめ、読書やストレッチをする。",
                    "4. 寝室を暗く、静かで、涼しく（18℃前後）保つ。",
                    "5. 20分ほどたっても眠れないときは、いったん起きて静かなことをし、眠くなってから布団に戻る。",
                    "",
                    "不眠が何週間も続く場合は、医師に相談してください。",
                ),
            ),
            ("b", "羊を数えてください。"),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "hi",
        "जल्दी नींद आने के लिए क्या करें?",
        (
            ("b", "भेड़ें गिनिए।"),
            (
                "a",
                _md(
                    "कुछ आदतें जो ज़्यादातर लोगों के काम आती हैं:",
                    "",
                    "1. हर दिन, सप्ताहांत में भी, एक ही समय पर सोएँ और उठें।",
                    "2. दोपहर के बाद कैफ़ीन से बचें और देर शाम भारी भोजन न करें।",
                    "3. सोने से 30–60 मिनट पहले फ़ोन और स्क्रीन दूर रख दें; इसके बजाय कुछ पढ़ें या हल्की स्ट्रेचिंग करें।",
                    "4. सोने का कमरा अँधेरा, शांत और ठंडा (लगभग 18 °C) रखें।",
                    "5. अगर लगभग 20 मिनट बाद भी नींद न आए, तो उठकर कोई शांत काम करें और नींद आने पर ही बिस्तर पर लौटें।",
                    "",
                    "अगर अनिद्रा कई हफ़्तों तक बनी रहे, तो डॉक्टर से सलाह लें।",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g4",
        "sw",
        "Ninawezaje kupata usingizi haraka zaidi?",
        (
            (
                "a",
                _md(
                    "Baadhi ya mazoea yanayowasaidia watu wengi:",
                    "",
                    "1. Lala na uamke saa ileile kila siku, hata wikendi.",
                    "2. Epuka kafeini kuanzia mchana na milo mizito usiku.",
                    "3. Weka simu na skrini mbali dakika 30–60 kabla ya kulala; badala yake soma au nyoosha mwili.",
                    "4. Chumba cha kulala kiwe na giza, kimya na ubaridi (karibu 18 °C).",
                    "5. Ukiwa bado macho baada ya dakika 20 hivi, amka ufanye jambo tulivu hadi uhisi usingizi.",
                    "",
                    "Ikiwa kukosa usingizi kutaendelea kwa wiki kadhaa, muone daktari.",
                ),
            ),
            ("b", "Hesabu kondoo."),
        ),
    ),
]


def _python_answer(intro: str, name: str, comments: tuple[str, str, str], advice: str) -> str:
    new, iterator, in_place = comments
    return _md(
        intro,
        "",
        "```python",
        f"{name} = [1, 2, 3, 4]",
        "",
        f"print({name}[::-1])  # [4, 3, 2, 1] – {new}",
        f"print(list(reversed({name})))  # [4, 3, 2, 1] – {iterator}",
        f"{name}.reverse()  # {in_place}",
        f"print({name})  # [4, 3, 2, 1]",
        "```",
        "",
        advice,
    )


PYTHON = [
    DemoPrompt(
        "demo-g5",
        "en",
        "How do I reverse a list in Python?",
        (
            (
                "a",
                _python_answer(
                    "There are three common ways:",
                    "numbers",
                    ("a new list", "from an iterator", "changes the list itself and returns None"),
                    "Use `reverse()` to change the list itself, and `[::-1]` or `reversed()` to keep the original.",
                ),
            ),
            ("b", "Write `numbers = numbers.reverse()`."),
            ("c", "Use `numbers[::-1]`."),
        ),
    ),
    DemoPrompt(
        "demo-g5",
        "de",
        "Wie kehre ich eine Liste in Python um?",
        (
            ("c", "Mit `zahlen[::-1]`."),
            (
                "a",
                _python_answer(
                    "Es gibt drei übliche Wege:",
                    "zahlen",
                    ("eine neue Liste", "über einen Iterator", "ändert die Liste selbst und gibt None zurück"),
                    "Nimm `reverse()`, wenn die Liste selbst geändert werden soll, und `[::-1]` oder `reversed()`,"
                    " wenn das Original erhalten bleiben muss.",
                ),
            ),
            ("b", "Schreib einfach `zahlen = zahlen.reverse()`."),
        ),
    ),
    DemoPrompt(
        "demo-g5",
        "fr",
        "Comment inverser une liste en Python ?",
        (
            ("b", "Écrivez simplement `nombres = nombres.reverse()`."),
            ("c", "Avec `nombres[::-1]`."),
            (
                "a",
                _python_answer(
                    "Il y a trois façons courantes :",
                    "nombres",
                    ("une nouvelle liste", "à partir d'un itérateur", "modifie la liste elle-même et renvoie None"),
                    "Utilisez `reverse()` pour modifier la liste elle-même, et `[::-1]` ou `reversed()` pour conserver"
                    " l'originale.",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g5",
        "es",
        "¿Cómo invierto una lista en Python?",
        (
            (
                "a",
                _python_answer(
                    "Hay tres formas habituales:",
                    "numeros",
                    ("una lista nueva", "a partir de un iterador", "modifica la propia lista y devuelve None"),
                    "Usa `reverse()` si quieres cambiar la lista original, y `[::-1]` o `reversed()` si necesitas"
                    " conservarla.",
                ),
            ),
            ("c", "Con `numeros[::-1]`."),
            ("b", "Escribe `numeros = numeros.reverse()`."),
        ),
    ),
    DemoPrompt(
        "demo-g5",
        "zh-Hans",
        "在 Python 里怎么把列表反转？",
        (
            ("c", "用 `numbers[::-1]`。"),
            ("b", "写 `numbers = numbers.reverse()` 就可以了。"),
            (
                "a",
                _python_answer(
                    "常用的方法有三种：",
                    "numbers",
                    ("生成新列表", "通过迭代器", "原地反转，返回 None"),
                    "想直接修改原列表就用 `reverse()`；需要保留原列表时用 `[::-1]` 或 `reversed()`。",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "demo-g5",
        "ja",
        "Pythonでリストを逆順にするにはどうすればいいですか？",
        (
            ("b", "`numbers = numbers.reverse()` と書けばできます。"),
            (
                "a",
                _python_answer(
                    "よく使われる方法は3つあります。",
                    "numbers",
                    ("新しいリスト", "イテレータから作成", "リスト自体を書き換え、None を返す"),
                    "元のリストを書き換えたいときは `reverse()`、元のリストを残したいときは `[::-1]` か"
                    " `reversed()` を使います。",
                ),
            ),
            ("c", "`numbers[::-1]` を使います。"),
        ),
    ),
]

SOLO = [
    DemoPrompt(
        "",
        "fr",
        "Quelle est la différence entre « tu » et « vous » ?",
        (
            (
                "a",
                "« Tu » s'emploie avec les proches, les enfants, les amis et souvent entre collègues. « Vous » est "
                "la forme de politesse, pour les inconnus, les personnes plus âgées ou dans un cadre professionnel ; "
                "c'est aussi le pluriel de « tu ». En cas de doute, commencez par « vous » : l'autre personne vous "
                "proposera peut-être de vous tutoyer.",
            ),
            ("b", "« Vous » est plus poli."),
        ),
    ),
    DemoPrompt(
        "",
        "ar",
        "ما الفرق بين القهوة العربية والقهوة التركية؟",
        (
            ("b", "لا يوجد فرق كبير بينهما."),
            (
                "a",
                _md(
                    "- **القهوة العربية**: حبوبها محمّصة تحميصًا خفيفًا، وتُغلى مع الهيل وأحيانًا الزعفران، ثم تُصفّى"
                    " وتُقدَّم في فناجين صغيرة دون سكر، وغالبًا مع التمر.",
                    "- **القهوة التركية**: حبوبها محمّصة تحميصًا أغمق ومطحونة طحنًا ناعمًا جدًا، وتُطهى في الركوة مع"
                    " السكر حسب الرغبة، وتُقدَّم دون تصفية فيبقى البن في قاع الفنجان.",
                ),
            ),
            (
                "c",
                "Arabic coffee is lightly roasted and spiced with cardamom; Turkish coffee is darker and unfiltered.",
            ),
        ),
    ),
    DemoPrompt(
        "",
        "ja",
        "東京で雨の日に楽しめる場所を教えてください。",
        (
            ("b", "家で映画を見るのがいいと思います。"),
            (
                "a",
                _md(
                    "雨の日でも楽しめる東京のスポットをいくつか紹介します。",
                    "",
                    "- **東京国立博物館**（上野）：日本の美術や歴史資料をじっくり見られます。",
                    "- **チームラボプラネッツ**（豊洲）：体験型のデジタルアート施設です。",
                    "- **東京駅周辺の地下街**：雨に濡れずに買い物や食事ができます。",
                    "- **すみだ水族館**（東京スカイツリータウン）：ペンギンやクラゲが人気です。",
                ),
            ),
        ),
    ),
    DemoPrompt(
        "",
        "sw",
        "Nawezaje kujifunza lugha mpya kwa haraka?",
        (
            (
                "a",
                _md(
                    "- Jifunze kidogo kila siku, hata dakika 15, badala ya saa nyingi mara moja kwa wiki.",
                    "- Tumia kadi za kukariri (flashcards) kwa maneno yanayotumika mara nyingi.",
                    "- Sikiliza muziki, redio au podikasti katika lugha hiyo.",
                    "- Zungumza na wazungumzaji asilia mapema, hata kama unakosea.",
                    "- Andika sentensi fupi kuhusu siku yako.",
                ),
            ),
            ("c", "Practise every day and talk to native speakers."),
            ("b", "Soma kamusi yote."),
        ),
    ),
    DemoPrompt(
        "",
        "hi",
        "दाल तड़का कैसे बनाते हैं?",
        (
            (
                "a",
                _md(
                    "1. एक कप अरहर की दाल धोकर तीन कप पानी, हल्दी और नमक के साथ कुकर में 3–4 सीटी तक पकाएँ।",
                    "2. एक कड़ाही में घी गरम करें, उसमें जीरा, कटा लहसुन और सूखी लाल मिर्च डालें।",
                    "3. कटा प्याज़ सुनहरा होने तक भूनें, फिर टमाटर और थोड़ा लाल मिर्च पाउडर डालकर पकाएँ।",
                    "4. यह तड़का पकी हुई दाल में मिलाएँ, दो मिनट उबालें और हरा धनिया डालकर चावल या रोटी के साथ परोसें।",
                ),
            ),
            ("b", "दाल उबालकर उसमें मसाले डाल दें।"),
        ),
    ),
    DemoPrompt(
        "",
        "de",
        "Was ist der Unterschied zwischen „seit“ und „seid“?",
        (
            ("b", "Das eine schreibt man mit t, das andere mit d."),
            (
                "a",
                "„Seit“ ist eine Präposition oder Konjunktion und bezieht sich auf die Zeit: „Ich wohne seit 2019 "
                "in Berlin.“ „Seid“ ist eine Form des Verbs „sein“ (2. Person Plural): „Ihr seid spät dran.“ "
                "Merkhilfe: Wenn man „seit wann?“ fragen kann, schreibt man es mit t.",
            ),
        ),
    ),
    DemoPrompt(
        "",
        "zh-Hans",
        "推荐一道简单的家常菜。",
        (
            (
                "a",
                _md(
                    "推荐**西红柿炒鸡蛋**，十分钟就能做好：",
                    "",
                    "1. 三个鸡蛋打散，加少许盐；两个西红柿切块。",
                    "2. 锅里放油，倒入蛋液炒到刚凝固，盛出备用。",
                    "3. 再放一点油，下西红柿翻炒出汁，加少许糖和盐。",
                    "4. 倒回鸡蛋翻炒均匀，撒上葱花即可出锅。",
                ),
            ),
            ("b", "炒个菜就行。"),
        ),
    ),
]

PROMPTS: list[DemoPrompt] = RICE + SKY + PACKING + SLEEP + PYTHON + SOLO

# About a third of the tasks; the rest stay open for real annotators.
ANNOTATIONS = [
    DemoAnnotation(
        "demo-g1:en",
        "demo-annotator-1",
        "a > b > c",
        rationale="Only A gives usable steps; C talks about rice but does not answer.",
    ),
    DemoAnnotation("demo-g1:en", "demo-annotator-2", "a > b = c"),
    DemoAnnotation(
        "demo-g1:ar",
        "demo-annotator-1",
        "a > b > c",
        ["wrong_language"],
        "C is a good answer, but in English while the question is in Arabic.",
    ),
    DemoAnnotation("demo-g1:ja", "demo-annotator-3", "a > b"),
    DemoAnnotation(
        "demo-g2:en",
        "demo-annotator-3",
        "a > c > b",
        rationale="B repeats a common misconception; C is right but too short.",
    ),
    DemoAnnotation("demo-g2:de", "demo-annotator-1", "a > b"),
    DemoAnnotation("demo-g2:hi", "demo-annotator-2", "a > b"),
    DemoAnnotation("demo-g2:hi", "demo-annotator-3", "a > b"),
    DemoAnnotation("demo-g3:es", "demo-annotator-1", "a > b"),
    DemoAnnotation("demo-g3:ar", "demo-annotator-1", "a > b"),
    DemoAnnotation("demo-g3:zh-Hans", "demo-annotator-2", "a > b"),
    DemoAnnotation("demo-g3:sw", "demo-annotator-3", "a > b"),
    DemoAnnotation(
        "demo-g4:fr", "demo-annotator-2", "a > b", rationale="B's advice is wrong: coffee before bed keeps you awake."
    ),
    DemoAnnotation("demo-g4:ja", "demo-annotator-3", "a > b"),
    DemoAnnotation("demo-g5:en", "demo-annotator-1", "a > c > b", rationale="B's code sets the list to None."),
    DemoAnnotation(
        "demo-g5:en", "demo-annotator-3", "a = c > b", rationale="A and C both work; C is enough for a quick answer."
    ),
    DemoAnnotation("demo-g5:de", "demo-annotator-3", "a > c > b"),
    DemoAnnotation("solo:fr", "demo-annotator-1", "a > b"),
    DemoAnnotation("solo:hi", "demo-annotator-2", "a > b"),
    DemoAnnotation("solo:zh-Hans", "demo-annotator-3", "a > b"),
]


def demo_seed() -> dict:
    """Create the demo campaign, its prompts, responses, tasks, annotators and annotations.
    Does nothing (and says so with `already_seeded`) when the demo campaign exists already."""
    with transaction.atomic():
        if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
            return _counts(already_seeded=True)
        campaign = campaign_create(name=CAMPAIGN_NAME, guidelines=GUIDELINES, languages=LANGUAGES, overlap=2)
        tasks = {demo.key: _prompt_with_task(campaign, demo) for demo in PROMPTS}
        users = _annotators()
        for annotation in ANNOTATIONS:
            _submit(annotation, tasks[annotation.key], users[annotation.annotator])
    return _counts(already_seeded=False)


def _counts(*, already_seeded: bool) -> dict:
    counts = {
        "campaigns": 1,
        "prompts": len(PROMPTS),
        "languages": len({p.language for p in PROMPTS}),
        "groups": len({p.group for p in PROMPTS if p.group}),
        "responses": sum(len(p.responses) for p in PROMPTS),
        "tasks": len(PROMPTS),
        "annotators": len(ANNOTATORS),
        "annotations": len(ANNOTATIONS),
    }
    if already_seeded:
        counts = dict.fromkeys(counts, 0)
    return {"already_seeded": already_seeded, **counts}


def _prompt_with_task(campaign: Campaign, demo: DemoPrompt) -> Task:
    prompt = prompt_create(content=demo.text, language=demo.language, group=demo.group, source=SOURCE)
    responses = [
        response_create(prompt=prompt, content=text, model_name=model_name(letter)) for letter, text in demo.responses
    ]
    return task_create(campaign=campaign, prompt=prompt, responses=responses)


def _annotators() -> dict[str, User]:
    users = {}
    for username, languages in ANNOTATORS.items():
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.add(role_group(ANNOTATOR))
        annotator_set_languages(user=user, languages=languages)
        users[username] = user
    return users


def ranking_positions(spec: str, letters: list[str]) -> list[list[int]]:
    """ "a > b = c" with responses stored as [b, a, c] -> [[1], [0, 2]]."""
    return [[letters.index(letter.strip()) for letter in rank.split("=")] for rank in spec.split(">")]


def _submit(annotation: DemoAnnotation, task: Task, user: User) -> None:
    letters = [item.response.model_name.removeprefix(MODEL_PREFIX) for item in task.items.order_by("position")]
    annotation_submit(
        user=user,
        task_id=task.pk,
        ranking=ranking_positions(annotation.ranking, letters),
        flags=annotation.flags,
        rationale=annotation.rationale,
    )
