using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Cli.Tests.Infrastructure;

/// <summary>
/// A UDP relay on loopback in front of one server, with an upstream socket per client address as a balancer's UDP
/// proxy keeps them (nginx's stream proxy). <see cref="SilenceExistingFlows"/> makes the server vanish for the
/// clients it has, as a crashed instance behind a balancer does (no close signal, nothing answers), while new
/// client addresses still get through (the balancer's surviving instances).
/// </summary>
public sealed class UdpRelay : IAsyncDisposable
{
    private readonly Socket _front;
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<IPEndPoint, Flow> _flows = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    private UdpRelay(IPEndPoint target)
    {
        _target = target;
        _front = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_front.LocalEndPoint!;
        _pump = Task.Run(PumpFrontAsync);
    }

    /// <summary>Where clients send.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Client addresses seen so far.</summary>
    public int Flows => _flows.Count;

    public static UdpRelay Start(IPEndPoint target) => new(target);

    /// <summary>Every flow open now drops whatever comes, both ways, from here on.</summary>
    public void SilenceExistingFlows()
    {
        foreach (var flow in _flows.Values)
        {
            flow.Silent = true;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _front.Dispose();
        foreach (var flow in _flows.Values)
        {
            flow.Upstream.Dispose();
        }

        await _pump;
        await Task.WhenAll(_flows.Values.Select(f => f.Pump));
        _stop.Dispose();
    }

    private async Task PumpFrontAsync()
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _front.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
            }
            catch (SocketException)
            {
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }

            var client = (IPEndPoint)received.RemoteEndPoint;
            var flow = _flows.GetOrAdd(client, Open);
            if (flow.Silent)
            {
                continue;
            }

            try
            {
                await flow.Upstream.SendAsync(buffer.AsMemory(0, received.ReceivedBytes), SocketFlags.None, _stop.Token);
            }
            catch (SocketException)
            {
                // The server is gone (ICMP refused): to the client, a lost datagram.
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private Flow Open(IPEndPoint client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        upstream.Connect(_target);
        var flow = new Flow(upstream);
        flow.Pump = Task.Run(() => PumpBackAsync(flow, client));
        return flow;
    }

    private async Task PumpBackAsync(Flow flow, IPEndPoint client)
    {
        var buffer = new byte[65536];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var n = await flow.Upstream.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (!flow.Silent)
                {
                    await _front.SendToAsync(buffer.AsMemory(0, n), SocketFlags.None, client, _stop.Token);
                }
            }
            catch (SocketException)
            {
                // Refused by a server that is gone, or a client that is: keep relaying the rest.
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
        }
    }

    private sealed class Flow(Socket upstream)
    {
        private volatile bool _silent;

        public Socket Upstream { get; } = upstream;

        public bool Silent
        {
            get => _silent;
            set => _silent = value;
        }

        public Task Pump { get; set; } = Task.CompletedTask;
    }
}
