// An unchanged minimal API app answering over KCP (HTTP/1.1, HTTP/2 prior knowledge, HTTPS with ALPN)
// and TCP from one host, and HttpClient calling it over KCP, with a Polly pipeline around the calls.
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

const string Key = "http-sample-secret";
using var certificate = CreateSelfSignedCertificate();
ListenOptions? h1 = null, h2 = null, tls = null, tcp = null;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseKcp(o => o.Defaults.Key = Key);
builder.WebHost.ConfigureKestrel(o =>
{
    o.ListenKcp(IPAddress.Loopback, 0, configureListen: l => (h1 = l).Protocols = HttpProtocols.Http1);
    o.ListenKcp(IPAddress.Loopback, 0, configureListen: l => (h2 = l).Protocols = HttpProtocols.Http2);
    o.ListenKcp(IPAddress.Loopback, 0, configureListen: l => (tls = l).UseHttps(certificate));
    o.Listen(IPAddress.Loopback, 0, l => tcp = l);
});
await using var app = builder.Build();

// The app itself knows nothing of KCP.
var flaky = 0;
app.MapGet("/hello", (HttpContext context) => $"Hello over {context.Request.Protocol} ({(context.Request.IsHttps ? "TLS" : "cleartext")})");
app.MapPost("/echo", async (HttpRequest request) =>
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    return Results.Bytes(body.ToArray(), "application/octet-stream");
});
app.MapGet("/flaky", () =>
    // Fails the first two calls, as a server warming up would.
    Interlocked.Increment(ref flaky) <= 2 ? Results.StatusCode(StatusCodes.Status503ServiceUnavailable) : Results.Text("finally"));
await app.StartAsync();
Console.WriteLine($"Server: {h1!.EndPoint} HTTP/1.1, {h2!.EndPoint} HTTP/2, {tls!.EndPoint} HTTPS, tcp://{tcp!.EndPoint}");

await using var factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = new KcpOptions { Key = Key } });

// HTTP/1.1: any host name in the URI; the handler sends every request to the KCP endpoint.
using (var client = new HttpClient(KcpHttpHandler.Create(factory, (KcpEndPoint)h1.EndPoint)) { BaseAddress = new Uri("http://kcp-server/") })
{
    Console.WriteLine($"GET /hello -> {await client.GetStringAsync(new Uri("hello", UriKind.Relative))}");
    var body = RandomNumberGenerator.GetBytes(1 << 20);
    using var response = await client.PostAsync(new Uri("echo", UriKind.Relative), new ByteArrayContent(body));
    var echoed = await response.Content.ReadAsByteArrayAsync();
    Console.WriteLine($"POST /echo 1 MiB over HTTP/{response.Version} -> {(echoed.AsSpan().SequenceEqual(body) ? "intact" : "CORRUPT")}");
}

// HTTP/2 with prior knowledge: ask for exactly 2.0 on an http:// URI.
using (var client = new HttpClient(KcpHttpHandler.Create(factory, (KcpEndPoint)h2.EndPoint))
{
    BaseAddress = new Uri("http://kcp-server/"),
    DefaultRequestVersion = HttpVersion.Version20,
    DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
})
{
    Console.WriteLine($"GET /hello -> {await client.GetStringAsync(new Uri("hello", UriKind.Relative))}");
}

// HTTPS: TLS runs over the KCP session, ALPN picks h2. The sample trusts its own certificate only.
var thumbprint = certificate.GetCertHashString();
using (var client = new HttpClient(KcpHttpHandler.Create(factory, (KcpEndPoint)tls.EndPoint, h =>
    h.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == thumbprint))
{
    BaseAddress = new Uri("https://localhost/"),
    DefaultRequestVersion = HttpVersion.Version20,
})
{
    Console.WriteLine($"GET /hello -> {await client.GetStringAsync(new Uri("hello", UriKind.Relative))}");
}

// Resilience around calls: dial retries and timeouts live in the transport; failures after the
// dial (an error status, a dropped connection) are the caller's, so retry them with a Polly pipeline.
// GetStringAsync turns a 503 into an HttpRequestException.
var pipeline = new ResiliencePipelineBuilder<string>()
    .AddRetry(new RetryStrategyOptions<string>
    {
        MaxRetryAttempts = 4,
        Delay = TimeSpan.FromMilliseconds(50),
        BackoffType = DelayBackoffType.Exponential,
        ShouldHandle = new PredicateBuilder<string>().Handle<HttpRequestException>().Handle<TimeoutRejectedException>(),
        OnRetry = args =>
        {
            Console.WriteLine($"  retry {args.AttemptNumber + 1} after {args.Outcome.Exception?.GetType().Name}");
            return default;
        },
    })
    .AddTimeout(TimeSpan.FromSeconds(5))
    .Build();
using (var client = new HttpClient(KcpHttpHandler.Create(factory, (KcpEndPoint)h1.EndPoint)) { BaseAddress = new Uri("http://kcp-server/") })
{
    var text = await pipeline.ExecuteAsync(
        static async (client, token) => await client.GetStringAsync(new Uri("flaky", UriKind.Relative), token),
        client);
    Console.WriteLine($"GET /flaky with retries -> {text}");
}

// The same app over TCP, for comparison.
using (var client = new HttpClient { BaseAddress = new Uri($"http://{tcp!.EndPoint}/") })
{
    Console.WriteLine($"GET /hello over TCP -> {await client.GetStringAsync(new Uri("hello", UriKind.Relative))}");
}

await app.StopAsync();
Console.WriteLine("Done.");

static X509Certificate2 CreateSelfSignedCertificate()
{
    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
    var san = new SubjectAlternativeNameBuilder();
    san.AddDnsName("localhost");
    request.CertificateExtensions.Add(san.Build());
    using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

    // SslStream on Linux wants a key it can load from PKCS#12, not an ephemeral one.
    return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx, "sample"), "sample");
}
