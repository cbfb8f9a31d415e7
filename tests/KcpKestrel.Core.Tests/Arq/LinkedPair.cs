using KcpKestrel.Core.Arq;

namespace KcpKestrel.Core.Tests.Arq;

/// <summary>Two control blocks joined by a <see cref="SimulatedLink"/>, driven by Update/Check in virtual time.</summary>
internal sealed class LinkedPair : IDisposable
{
    private readonly Endpoint _a;
    private readonly Endpoint _b;

    /// <param name="link">The link between them.</param>
    /// <param name="conv">The conversation id.</param>
    /// <param name="clockStart">The clock's first reading (ms).</param>
    /// <param name="receiveBudgetB">B's receive budget, if any.</param>
    public LinkedPair(SimulatedLink link, uint conv, uint clockStart, IReceiveBudget? receiveBudgetB = null)
    {
        Link = link;
        ClockStart = clockStart;
        _a = new Endpoint(link, 1);
        _b = new Endpoint(link, 0);
        A = new KcpControlBlock(conv, _a);
        B = new KcpControlBlock(conv, _b) { ReceiveBudget = receiveBudgetB };
    }

    public SimulatedLink Link { get; }

    public uint ClockStart { get; }

    public KcpControlBlock A { get; }

    public KcpControlBlock B { get; }

    public uint Clock => unchecked(ClockStart + (uint)Link.Now);

    /// <summary>Delivers what is due, then updates both sides; returns the first broken invariant, if any.</summary>
    public string? Step()
    {
        while (Link.TryReceive(out var to, out var datagram))
        {
            var target = to == 0 ? A : B;
            var result = target.Input(datagram, Clock);
            if (result != KcpInputResult.Ok)
            {
                return $"input rejected a genuine datagram: {result}";
            }
        }

        A.Update(Clock);
        B.Update(Clock);
        return A.CheckInvariants() ?? B.CheckInvariants();
    }

    /// <summary>Moves virtual time to the next event (a due update or an arrival), at most <paramref name="maxStep"/> ms.</summary>
    public void Advance(int maxStep)
    {
        var clock = Clock;
        var dueA = (int)(A.Check(clock) - clock);
        var dueB = (int)(B.Check(clock) - clock);
        var next = Math.Min(Math.Min(dueA, dueB), maxStep);
        var arrival = Link.NextArrival - Link.Now;
        next = (int)Math.Min(next, arrival);
        Link.Now += Math.Max(next, 1);
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }

    private sealed class Endpoint(SimulatedLink link, int to) : IKcpOutput
    {
        public void Output(Span<byte> buffer) => link.Send(to, buffer);
    }
}
