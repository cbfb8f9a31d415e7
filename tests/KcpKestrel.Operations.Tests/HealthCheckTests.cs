using System.Net;
using KcpKestrel.Operations.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace KcpKestrel.Operations.Tests;

public sealed class HealthCheckTests
{
    [Fact]
    public async Task BoundListenerWithRoom_IsHealthy_AndReportsItsLimits()
    {
        await using var host = await OpsHost.StartEchoAsync();
        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        var entry = report.Entries["kcp"];
        Assert.Equal(HealthStatus.Healthy, entry.Status);
        var endpoint = host.KcpEndPoint.IPEndPoint.ToString();
        Assert.Equal(new[] { endpoint }, (string[])entry.Data["endpoints"]);
        var figures = (IReadOnlyDictionary<string, object>)entry.Data[endpoint];
        Assert.Equal(10_000, figures["maxSessions"]);
        Assert.Equal(0, figures["sessions"]);
        Assert.Equal(true, figures["accepting"]);
        Assert.Equal("aes", figures["crypt"]);
    }

    [Fact]
    public async Task SessionsAboveNinetyPercentOfTheLimit_Degrade()
    {
        await using var host = await OpsHost.StartEchoAsync(k => k.MaxSessions = 1);
        await using var client = Client.Create();
        var connection = await client.ConnectAsync(host.KcpEndPoint);
        await Client.EchoAsync(connection, 100);

        var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        var entry = report.Entries["kcp"];
        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("holds 1 of 1 sessions", entry.Description, StringComparison.Ordinal);
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task NoKcpEndpoint_IsUnhealthy()
    {
        using var host = OpsHost.Build(null, null, null);
        await host.StartAsync();
        try
        {
            var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            Assert.Equal(HealthStatus.Unhealthy, report.Entries["kcp"].Status);
            Assert.Equal("No KCP endpoint is bound.", report.Entries["kcp"].Description);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task UnboundListener_ReportsTheFailureStatus()
    {
        using var factory = new KcpConnectionListenerFactory(Options.Create(new KcpTransportOptions()));
        var check = new KcpHealthCheck(new IConnectionListenerFactory[] { factory });
        var registration = new HealthCheckRegistration("kcp", check, HealthStatus.Degraded, null);
        var context = new HealthCheckContext { Registration = registration };

        var listener = await factory.BindAsync(new KcpEndPoint(IPAddress.Loopback, 0) { Configure = k => { k.Crypt = "none"; k.IoLoopCount = 1; } });
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);

        await listener.UnbindAsync();
        var unbound = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Degraded, unbound.Status);
        Assert.Contains("is not accepting new sessions", unbound.Description, StringComparison.Ordinal);

        await listener.DisposeAsync();
        Assert.Equal("No KCP endpoint is bound.", (await check.CheckHealthAsync(context)).Description);
    }
}
