using System.Net;
using System.Net.Security;
using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace KcpKestrel.Middleware.Tests;

public sealed class TlsCompositionTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task WholeSet_ComposesWithUseHttps_OnEveryListener()
    {
        var certificate = TestCertificate.Instance;
        await using var host = await ThreeListenerHost.StartAsync(
            l => l
                .UseConnectionMetrics()
                .UseAddressFilter(o => o.Deny.Add("192.0.2.0/24"))
                .UseConnectionLifetimeLogging()
                .UseHttps(certificate)
                .UseConnectionRateLimiter(o =>
                {
                    o.ConcurrentConnectionLimit = 10;
                    o.BandwidthLimit = 64L * 1024 * 1024;
                })
                .UseConnectionTimeouts(o => o.IdleTimeout = TimeSpan.FromMinutes(5)));
        using var received = MetricsReader.Collect<long>(host.Services, "kcpkestrel.connection.bytes_received");
        using var duration = MetricsReader.Collect<double>(host.Services, "kcpkestrel.connection.duration");

        var payload = new byte[50_000];
        new Random(5).NextBytes(payload);
        foreach (var listener in ThreeListenerHost.All)
        {
            await using var client = await host.ConnectAsync(listener);
            await using var tls = new SslStream(client.Stream, leaveInnerStreamOpen: true, (_, presented, _, _) => presented is not null && presented.GetCertHashString() == certificate.GetCertHashString());
            using var cts = new CancellationTokenSource(Step);
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, cts.Token);
            var greeting = new byte[1];
            await tls.ReadExactlyAsync(greeting, cts.Token);
            Assert.Equal(GreetingEchoHandler.Greeting, greeting[0]);
            await tls.WriteAsync(payload, cts.Token);
            var back = new byte[payload.Length];
            await tls.ReadExactlyAsync(back, cts.Token);
            Assert.Equal(payload, back);
        }

        await duration.WaitForMeasurementsAsync(3, Step);
        foreach (var listener in ThreeListenerHost.All)
        {
            // Placed before UseHttps, metrics count wire bytes: the handshake and record overhead on top of the payload.
            Assert.True(MetricsReader.Sum(received, "endpoint", host.EndpointTag(listener)) > payload.Length);
        }

        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.Contains(m.Tags["reason"] as string, new[] { "completed", "remote_close" }));
    }
}
