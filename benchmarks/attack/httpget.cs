#:project ../../src/KcpKestrel.Transport.Kcp/KcpKestrel.Transport.Kcp.csproj
#:property PublishAot=false

// A real HTTP/1.1 client over KCP for the attack harness (run.sh): GET http://x/PATH once per --count over one
// session, so a capturing forwarder in front of it records genuine AEAD datagrams that carry an HTTP request.
// Usage: dotnet run httpget.cs -- HOST:PORT CRYPT KEY [PATH] [COUNT] [PAUSE_MS]; prints one JSON line.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

var target = IPEndPoint.Parse(args[0]);
var path = args.Length > 3 ? args[3] : "/plaintext";
var count = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 1;
var pause = TimeSpan.FromMilliseconds(args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 0);
await using var factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = new KcpOptions { Crypt = args[1], Key = args[2] } });
using var client = new HttpClient(KcpHttpHandler.Create(factory, new KcpEndPoint(target)));
var start = Stopwatch.GetTimestamp();
var ok = 0;
var body = "";
for (var i = 0; i < count; i++)
{
    using var response = await client.GetAsync(new Uri("http://x" + path));
    body = await response.Content.ReadAsStringAsync();
    ok += response.IsSuccessStatusCode ? 1 : 0;
    if (i + 1 < count)
    {
        await Task.Delay(pause);
    }
}

Console.WriteLine($"{{\"workload\":\"httpget\",\"requests\":{count},\"ok\":{(ok == count ? "true" : "false")},\"seconds\":{Stopwatch.GetElapsedTime(start).TotalSeconds:F3},\"body\":\"{body}\"}}");
