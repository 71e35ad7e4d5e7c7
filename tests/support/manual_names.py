"""The HTTP (and OneMO SSL) commands and the Neoway URCs the manuals declare, written out by hand
so that the dialect files and what `atbridge dialects` shows are checked against them."""

ONEMO_COMMANDS = ["MHTTPCREATE", "MHTTPCFG", "MHTTPHEADER", "MHTTPCONTENT", "MHTTPREQUEST", "MHTTPREAD",
                  "MHTTPDEL", "MHTTPTERM", "MHTTPDLFILE", "MSSLCERTWR", "MSSLCFG"]
NEOWAY_COMMANDS = ["HTTPPARA", "HTTPSETUP", "HTTPACTION", "HTTPCLOSE", "HTTPGET", "HTTPGETSTAT", "HTTPSCFG",
                   "HTTPSPARA", "HTTPSSETUP", "HTTPSACTION", "HTTPSCLOSE", "HTTPSGET", "HTTPSGETSTAT",
                   "FILEHTTPACTION", "FILEHTTPSACTION"]
NEOWAY_URCS = ["+HTTPRECV", "+HTTPSRECV", "+HTTPCLOSED", "+HTTPSCLOSED", "+HTTPCLOSE", "+HTTPSCLOSE",
               "+HTTPGETRPT", "+HTTPSGETRPT", "+FILEHTTPSTAT"]
