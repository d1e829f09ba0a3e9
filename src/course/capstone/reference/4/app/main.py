"""The shop's API: list and create categories and products, each request with its own AsyncSession."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.database import engine, get_session
from app.models import Category, Product
from app.schema_check import require_head

Session = Annotated[AsyncSession, Depends(get_session)]


class CategoryIn(BaseModel):
    name: str


class CategoryOut(CategoryIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


class ProductIn(BaseModel):
    name: str
    price_cents: int
    category_id: int
    stock: int = 0


class ProductOut(ProductIn):
    model_config = ConfigDict(from_attributes=True)
    id: int


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await require_head(engine)  # before the first request: refuse a database that is not at head
    yield
    await engine.dispose()


app = FastAPI(title="My shop", lifespan=lifespan)


@app.get("/categories", response_model=list[CategoryOut])
async def list_categories(session: Session):
    return (await session.scalars(select(Category).order_by(Category.id))).all()


@app.post("/categories", response_model=CategoryOut, status_code=201)
async def create_category(data: CategoryIn, session: Session):
    category = Category(**data.model_dump())
    session.add(category)
    await session.commit()
    return category


@app.get("/products", response_model=list[ProductOut])
async def list_products(session: Session):
    return (await session.scalars(select(Product).order_by(Product.id))).all()


@app.get("/products/in-stock", response_model=list[ProductOut])
async def list_products_in_stock(session: Session):
    return (await session.scalars(select(Product).where(Product.stock > 0).order_by(Product.id))).all()


@app.post("/products", response_model=ProductOut, status_code=201)
async def create_product(data: ProductIn, session: Session):
    product = Product(**data.model_dump())
    session.add(product)
    await session.commit()
    return product
