"""LEAN TimeInForceAlgorithm: six buy limits with GTC, DAY and GTD time in force."""

from datetime import date

from leand import Resolution, Strategy, TimeInForce


class TimeInForceAlgorithm(Strategy):
    def initialize(self):
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.MINUTE).symbol
        self.placed = False
        self.tickets = {}

    def on_data(self, data):
        if self.placed:
            return
        self.placed = True
        gtd = date(2013, 10, 10)
        self.tickets["gtc100"] = self.limit_order(self.spy, 10, 100, time_in_force=TimeInForce.GTC)
        self.tickets["gtc160"] = self.limit_order(self.spy, 10, 160, time_in_force=TimeInForce.GTC)
        self.tickets["day140"] = self.limit_order(self.spy, 10, 140, time_in_force=TimeInForce.DAY)
        self.tickets["day180"] = self.limit_order(self.spy, 10, 180, time_in_force=TimeInForce.DAY)
        self.tickets["gtd100"] = self.limit_order(self.spy, 10, 100, expire=gtd)
        self.tickets["gtd160"] = self.limit_order(self.spy, 10, 160, expire=gtd)
