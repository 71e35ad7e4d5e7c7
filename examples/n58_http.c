/* An N58 HTTP client of the kind public firmware has (modelled on RT-Thread at_device class/n58
 * and the STM32 N58 drivers): the input of the README's "Planning a migration" example. */
#include <stdio.h>
#include "at.h"

static int n58_start(at_client_t client)
{
    at_exec(client, "ATE0\r\n");
    at_exec(client, "AT+CCID\r\n");
    at_exec(client, "AT+CREG?\r\n");
    at_exec(client, "AT+NETAPN=\"%s\",\"\",\"\"\r\n", apn);
    at_exec(client, "AT+XGAUTH=1,1,\"%s\",\"%s\"\r\n", user, password);
    at_exec(client, "AT+XIIC=1\r\n");
    at_exec(client, "AT+XIIC?\r\n");
    at_exec(client, "AT+DNSSERVER=1,%s\r\n", dns);
    return 0;
}

static int n58_report(at_client_t client, const char *host, const char *json, int len)
{
    at_exec(client, "AT+HTTPPARA=url,%s/report\r\n", host);
    at_exec(client, "AT+HTTPPARA=keepalive,1\r\n");
    at_exec(client, "AT+HTTPSETUP\r\n");
    at_exec(client, "AT+HTTPACTION=2,%d,2\r\n", len);
    at_exec(client, "AT+HTTPACTION=99,%d\r\n", len);
    at_exec(client, "AT+CDNSGIP=\"%s\"\r\n", host);
    at_exec(client, "AT+HTTPCLOSE\r\n");
    return 0;
}
