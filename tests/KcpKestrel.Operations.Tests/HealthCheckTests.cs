using System.Net;
using KcpKestrel.Operations.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
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
        Assert.Equal(false, entry.Data["stopping"]);
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
    public async Task HostStopping_ReportsTheFailureStatus_WhileTheListenerStillServes()
    {
        await using var host = await OpsHost.StartEchoAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        Assert.Equal(HealthStatus.Healthy, (await health.CheckHealthAsync()).Status);

        // ApplicationStopping without StopAsync: what a drain delay looks like (the host has begun
        // stopping, Kestrel has not unbound yet).
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var entry = (await health.CheckHealthAsync()).Entries["kcp"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Equal("The host is stopping; 0 KCP session(s) still open.", entry.Description);
        Assert.Equal(true, entry.Data["stopping"]);
        Assert.Equal(true, ((IReadOnlyDictionary<string, object>)entry.Data[host.KcpEndPoint.IPEndPoint.ToString()])["accepting"]);

        // Unready is not closed: the listener still serves.
        await using var client = Client.Create();
        var connection = await client.ConnectAsync(host.KcpEndPoint);
        await Client.EchoAsync(connection, 100);
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
