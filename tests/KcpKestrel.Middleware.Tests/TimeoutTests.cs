using KcpKestrel.Middleware.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace KcpKestrel.Middleware.Tests;

public sealed class TimeoutTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task IdleConnection_IsClosedWithAClearReason_AndInputKeepsItAlive()
    {
        var time = new FakeTimeProvider();
        await using var host = await ThreeListenerHost.StartAsync(l => l
            .UseConnectionMetrics(o => o.TimeProvider = time)
            .UseConnectionTimeouts(o =>
            {
                o.IdleTimeout = TimeSpan.FromSeconds(30);
                o.TimeProvider = time;
            }));
        using var duration = MetricsReader.Collect<double>(host.Services, "kcpkestrel.connection.duration");

        var clients = new List<TestClient>();
        foreach (var listener in ThreeListenerHost.All)
        {
            var client = await host.ConnectAsync(listener);
            Assert.True(await client.ReadGreetingAsync(Step));
            clients.Add(client);
        }

        time.Advance(TimeSpan.FromSeconds(20));
        foreach (var client in clients)
        {
            await client.EchoAsync([1, 2, 3], Step);
        }

        // 40 s after open but only 20 s after the last input: still open.
        time.Advance(TimeSpan.FromSeconds(20));
        foreach (var client in clients)
        {
            await client.EchoAsync([4], Step);
        }

        time.Advance(TimeSpan.FromSeconds(31));
        foreach (var client in clients)
        {
            Assert.True(await client.WaitClosedAsync(Step));
            await client.DisposeAsync();
        }

        await duration.WaitForMeasurementsAsync(3, Step);
        Assert.All(duration.GetMeasurementSnapshot(), m => Assert.Equal("idle_timeout", m.Tags["reason"]));
        Assert.Contains(host.Handler.Errors, e => e is ConnectionAbortedException && e.Message.Contains("idle timeout", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConnectionPastItsLifetime_IsClosed_EvenWhenBusy()
    {
        var time = new FakeTimeProvider();
        await using var host = await ThreeListenerHost.StartAsync(l => l
            .UseConnectionTimeouts(o =>
            {
                o.MaxLifetime = TimeSpan.FromMinutes(1);
                o.IdleTimeout = TimeSpan.FromSeconds(45);
                o.TimeProvider = time;
            })
            .UseConnectionMetrics(o => o.TimeProvider = time));
        using var duration = MetricsReader.Collect<double>(host.Services, "kcpkestrel.connection.duration");

        var clients = new List<TestClient>();
        foreach (var listener in ThreeListenerHost.All)
        {
            var client = await host.ConnectAsync(listener);
            Assert.True(await client.ReadGreetingAsync(Step));
            clients.Add(client);
        }

        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(11));
            foreach (var client in clients)
            {
                await client.EchoAsync([(byte)i], Step);
            }
        }

        time.Advance(TimeSpan.FromSeconds(6));
        foreach (var client in clients)
        {
            Assert.True(await client.WaitClosedAsync(Step));
            await client.DisposeAsync();
        }

        await duration.WaitForMeasurementsAsync(3, Step);
        Assert.All(duration.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("lifetime_exceeded", m.Tags["reason"]);
            Assert.Equal(61, m.Value, 3);
        });
    }
}
