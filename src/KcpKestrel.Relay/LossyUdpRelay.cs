using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Relay;

/// <summary>
/// A UDP relay that loses, delays, jitters, reorders, duplicates and corrupts datagrams both ways
/// with a seeded random source: a bad link on a machine without netem. Each client address gets
/// an upstream socket of its own, so the target sees one source per client, as through a NAT.
/// </summary>
internal sealed class LossyUdpRelay : IAsyncDisposable
{
    private readonly Socket _listen;
    private readonly IPEndPoint _target;
    private readonly LinkImpairment _impairment;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly ConcurrentDictionary<IPEndPoint, UpstreamSocket> _upstreams = new();
    private readonly PriorityQueue<Delayed, long> _delayLine = new();
    private readonly Lock _delayLock = new();
    private readonly SemaphoreSlim _delaySignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private readonly List<UpstreamSocket> _retired = [];

    public LossyUdpRelay(IPEndPoint listen, IPEndPoint target, LinkImpairment impairment)
    {
        impairment.Validate();
        _target = target;
        _impairment = impairment;
        _random = new Random(impairment.Seed);
        _listen = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _listen.ReceiveBufferSize = 4 << 20;
        _listen.SendBufferSize = 4 << 20;
        _listen.Bind(listen);
        EndPoint = (IPEndPoint)_listen.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Client to target.</summary>
    public RelayCounters Upstream { get; } = new();

    /// <summary>Target to client.</summary>
    public RelayCounters Downstream { get; } = new();

    /// <summary>Set false to stop forwarding (a peer that vanished), true to resume.</summary>
    public bool Forwarding { get; set; } = true;

    /// <summary>
    /// A NAT rebinding: every client's traffic leaves from a fresh upstream socket (a new source port) from now
    /// on, and what the target sends to the old one is no longer delivered (the old mapping is gone).
    /// </summary>
    public void Rebind()
    {
        foreach (var (client, old) in _upstreams)
        {
            var fresh = new UpstreamSocket(this, client);
            _upstreams[client] = fresh;
            old.Retired = true;
            lock (_tasks)
            {
                _retired.Add(old);
                _tasks.Add(Task.Run(fresh.ReceiveLoopAsync));
            }
        }
    }

    public void Start()
    {
        _tasks.Add(Task.Run(ClientLoopAsync));
        _tasks.Add(Task.Run(DelayLoopAsync));
    }

    private async Task ClientLoopAsync()
    {
        var buffer = new byte[65536];
        var from = new SocketAddress(_listen.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await _listen.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            var client = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
            if (!_upstreams.TryGetValue(client, out var upstream))
            {
                upstream = new UpstreamSocket(this, client);
                _upstreams[client] = upstream;
                lock (_tasks)
                {
                    _tasks.Add(Task.Run(upstream.ReceiveLoopAsync));
                }
            }

            Interlocked.Increment(ref Upstream.Received);
            Impair(buffer.AsSpan(0, n), upstream.Socket, null, Upstream);
        }
    }

    /// <summary>Applies the impairments to one datagram and sends (now or later) what survives.</summary>
    private void Impair(ReadOnlySpan<byte> datagram, Socket via, IPEndPoint? to, RelayCounters counters)
    {
        if (!Forwarding)
        {
            Interlocked.Increment(ref counters.Dropped);
            return;
        }

        double loss, dup, corrupt, reorder, jitter;
        int bit;
        lock (_randomLock)
        {
            loss = _random.NextDouble();
            dup = _random.NextDouble();
            corrupt = _random.NextDouble();
            reorder = _random.NextDouble();
            jitter = _random.NextDouble();
            bit = _random.Next(datagram.Length * 8);
        }

        if (loss < _impairment.Loss)
        {
            Interlocked.Increment(ref counters.Dropped);
            return;
        }

        var copy = datagram.ToArray();
        if (corrupt < _impairment.Corrupt && copy.Length > 0)
        {
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Interlocked.Increment(ref counters.Corrupted);
        }

        var delayMs = _impairment.Delay.TotalMilliseconds + (jitter * _impairment.Jitter.TotalMilliseconds);
        if (reorder < _impairment.Reorder)
        {
            // Held back long enough that later datagrams overtake it.
            delayMs += Math.Max(5, _impairment.Delay.TotalMilliseconds + _impairment.Jitter.TotalMilliseconds);
            Interlocked.Increment(ref counters.Reordered);
        }

        var copies = dup < _impairment.Duplicate ? 2 : 1;
        if (copies == 2)
        {
            Interlocked.Increment(ref counters.Duplicated);
        }

        for (var i = 0; i < copies; i++)
        {
            if (delayMs < 0.5)
            {
                Send(via, copy, to, counters);
            }
            else
            {
                var due = Stopwatch.GetTimestamp() + (long)(delayMs * Stopwatch.Frequency / 1000);
                lock (_delayLock)
                {
                    _delayLine.Enqueue(new Delayed(via, copy, to, counters), due);
                }

                _delaySignal.Release();
            }
        }
    }

    private static void Send(Socket via, byte[] datagram, IPEndPoint? to, RelayCounters counters)
    {
        try
        {
            if (to is null)
            {
                via.Send(datagram);
            }
            else
            {
                via.SendTo(datagram, to);
            }

            Interlocked.Increment(ref counters.Forwarded);
        }
        catch (SocketException)
        {
            Interlocked.Increment(ref counters.Dropped);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task DelayLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Delayed? next = null;
            long wait;
            lock (_delayLock)
            {
                if (_delayLine.TryPeek(out var item, out var due))
                {
                    wait = due - Stopwatch.GetTimestamp();
                    if (wait <= 0)
                    {
                        next = _delayLine.Dequeue();
                    }
                }
                else
                {
                    wait = Stopwatch.Frequency; // nothing queued: sleep until signalled
                }
            }

            if (next is not null)
            {
                Send(next.Via, next.Datagram, next.To, next.Counters);
                continue;
            }

            try
            {
                var ms = Math.Max(1, (int)(wait * 1000 / Stopwatch.Frequency));
                await _delaySignal.WaitAsync(ms, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listen.Dispose();
        foreach (var upstream in _upstreams.Values.Concat(_retired))
        {
            upstream.Socket.Dispose();
        }

        try
        {
            await Task.WhenAll(_tasks).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _stop.Dispose();
        _delaySignal.Dispose();
    }

    private sealed record Delayed(Socket Via, byte[] Datagram, IPEndPoint? To, RelayCounters Counters);

    private sealed class UpstreamSocket
    {
        private readonly LossyUdpRelay _relay;
        private readonly IPEndPoint _client;
        private volatile bool _isRetired;

        public UpstreamSocket(LossyUdpRelay relay, IPEndPoint client)
        {
            _relay = relay;
            _client = client;
            Socket = new Socket(relay._target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            Socket.ReceiveBufferSize = 4 << 20;
            Socket.SendBufferSize = 4 << 20;
            Socket.Connect(relay._target);
        }

        public Socket Socket { get; }

        /// <summary>Replaced by <see cref="Rebind"/>: what arrives here is dropped. Set by any thread.</summary>
        public bool Retired
        {
            get => _isRetired;
            set => _isRetired = value;
        }

        public async Task ReceiveLoopAsync()
        {
            var buffer = new byte[65536];
            while (!_relay._stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = await Socket.ReceiveAsync(buffer, SocketFlags.None, _relay._stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (SocketException)
                {
                    // ICMP port unreachable from a target that is not up yet: keep going.
                    continue;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }

                if (Retired)
                {
                    continue;
                }

                Interlocked.Increment(ref _relay.Downstream.Received);
                _relay.Impair(buffer.AsSpan(0, n), _relay._listen, _client, _relay.Downstream);
            }
        }
    }
}
